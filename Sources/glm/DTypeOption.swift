import ArgumentParser
import Kernels

/// SGLang's `--dtype`: the activation type of the products. `auto` keeps the exact f32 path;
/// `bfloat16` rounds activations to bf16 for bf16 and FP8 weights and multiplies them with
/// vdpbf16ps, as llama.cpp's BF16 path does.
enum DTypeOption: String, ExpressibleByArgument, CaseIterable {
    case auto, half, float16, bfloat16, float, float32

    static let help = ArgumentHelp(
        "Activation dtype (SGLang's --dtype): auto or float32 (f32, exact), bfloat16 (bf16 activations for bf16 and FP8 "
            + "weights, vdpbf16ps on CPUs with AVX512-BF16; faster prefill on AMD Zen 4, not bit-exact), float16/half "
            + "(computed as f32).",
        valueName: "dtype")

    var precision: MatmulPrecision { self == .bfloat16 ? .bfloat16 : .float32 }

    /// A line for the user when this choice does not do here what its name says, else nil.
    var note: String? {
        switch self {
        case .half, .float16: "--dtype \(rawValue): no f16 path here; products run in f32"
        case .bfloat16 where !CPUBackend.hasBF16Dot:
            "--dtype bfloat16: this CPU has no AVX512-BF16 (vdpbf16ps); products run in f32"
        default: nil
        }
    }
}
