/// Element types a checkpoint tensor can be stored in: safetensors' dtypes, named as safetensors
/// names them, and ggml's block formats from GGUF files, named as ggml names them.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case bf16 = "BF16"
    case f16 = "F16"
    case f8e4m3 = "F8_E4M3"
    case f64 = "F64"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"
    // ggml block formats (../shared/spec/gguf.md §4): a row is a run of whole blocks.
    case q4_0 = "Q4_0"
    case q4_1 = "Q4_1"
    case q5_0 = "Q5_0"
    case q5_1 = "Q5_1"
    case q8_0 = "Q8_0"
    case q2_K = "Q2_K"
    case q3_K = "Q3_K"
    case q4_K = "Q4_K"
    case q5_K = "Q5_K"
    case q6_K = "Q6_K"
    case iq4_NL = "IQ4_NL"
    case iq4_XS = "IQ4_XS"

    /// Bytes per element; for a block format, bytes per block (see `blockElements`).
    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .bf16, .f16, .i16: 2
        case .f8e4m3, .i8, .u8, .bool: 1
        case .q4_0, .iq4_NL: 18
        case .q4_1: 20
        case .q5_0: 22
        case .q5_1: 24
        case .q8_0: 34
        case .q2_K: 84
        case .q3_K: 110
        case .q4_K: 144
        case .q5_K: 176
        case .q6_K: 210
        case .iq4_XS: 136
        }
    }

    /// Elements per block: 1 for the element types, 32 or 256 for ggml's block formats.
    public var blockElements: Int {
        switch self {
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .iq4_NL: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_XS: 256
        default: 1
        }
    }

    public var isBlockFormat: Bool { blockElements > 1 }

    /// Where a block keeps its f16 scales (d, and dmin where there is one), in bytes from the
    /// block's start (../shared/spec/gguf.md §4); empty for the element types.
    public var blockScaleOffsets: [Int] {
        switch self {
        case .q4_0, .q5_0, .q8_0, .iq4_NL, .iq4_XS: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q6_K: [208]
        default: []
        }
    }

    /// The dtypes a safetensors header may name.
    public var isSafetensorsType: Bool { !isBlockFormat }

    /// Bytes of `elements` values (a multiple of `blockElements`), or nil on overflow.
    public func bytes(forElements elements: Int) -> Int? {
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: byteSize)
        return overflow ? nil : bytes
    }

    /// Whether the matrix kernels can read this dtype directly.
    public var isFloatWeight: Bool { [.f32, .bf16, .f16, .f8e4m3].contains(self) || isBlockFormat }
}
