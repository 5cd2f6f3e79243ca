import Foundation
import Testing
import Weights

/// The NaN/Inf scan at load (issue 19: an all-NaN lm_head, embedding or router loaded silently).
@Suite("weight check")
struct WeightCheckTests {
    /// A one-tensor file of `dtype` holding `bytes`. Its view points into the file's mapping,
    /// so it is only read through `count`, which keeps the file alive.
    static func tensor(_ dtype: String, _ bytes: [UInt8], elementSize: Int, folder: ScratchFolder) throws -> SafeTensorsFile {
        let path = try folder.write("\(dtype)-\(UUID().uuidString).safetensors", header: [
            "t": ["dtype": dtype, "shape": [bytes.count / elementSize], "data_offsets": [0, bytes.count]],
        ], data: bytes)
        return try SafeTensorsFile(path: path)
    }

    static func count(_ file: SafeTensorsFile, _ check: WeightCheck) -> NonFiniteCount {
        withExtendedLifetime(file) { file.tensors["t"]!.nonFiniteCount(check) }
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    @Test("f32: NaN and infinities are told apart; finite extremes are not flagged")
    func f32() throws {
        let folder = ScratchFolder()
        let values: [Float] = [1, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, -0.0, .leastNonzeroMagnitude,
                               Float(bitPattern: 0xFFC0_0001)]
        let view = try Self.tensor("F32", Self.bytes(values), elementSize: 4, folder: folder)
        #expect(Self.count(view, .sampled) == NonFiniteCount(nan: 2, infinity: 2, checked: 8))
        #expect(Self.count(view, .none) == NonFiniteCount())
    }

    @Test("bf16 and f16 bit patterns")
    func halfWidths() throws {
        let folder = ScratchFolder()
        // bf16: 0x7F80 +inf, 0xFF80 -inf, 0x7FC0 NaN, 0x7F7F largest finite, 0x3F80 one.
        let bf16 = try Self.tensor("BF16", Self.bytes([UInt16(0x7F80), 0xFF80, 0x7FC0, 0x7F7F, 0x3F80, 0xFF81]), elementSize: 2, folder: folder)
        #expect(Self.count(bf16, .full) == NonFiniteCount(nan: 2, infinity: 2, checked: 6))
        // f16: 0x7C00 +inf, 0x7E00 NaN, 0x7BFF largest finite (65504), 0x3C00 one.
        let f16 = try Self.tensor("F16", Self.bytes([UInt16(0x7C00), 0x7E00, 0x7BFF, 0x3C00, 0xFC00]), elementSize: 2, folder: folder)
        #expect(Self.count(f16, .full) == NonFiniteCount(nan: 1, infinity: 2, checked: 5))
        let f64 = try Self.tensor("F64", Self.bytes([Double.nan, 1, -Double.infinity]), elementSize: 8, folder: folder)
        #expect(Self.count(f64, .full) == NonFiniteCount(nan: 1, infinity: 1, checked: 3))
    }

    @Test("FP8 E4M3: NaN is 0x7F and 0xFF; there is no infinity (0x7E and 0x78 are finite)")
    func e4m3() throws {
        let folder = ScratchFolder()
        let view = try Self.tensor("F8_E4M3", [0x7F, 0xFF, 0x7E, 0xFE, 0x78, 0xF8, 0x00, 0x80], elementSize: 1, folder: folder)
        #expect(Self.count(view, .full) == NonFiniteCount(nan: 2, infinity: 0, checked: 8))
    }

    @Test("integer tensors are not read")
    func integers() throws {
        let folder = ScratchFolder()
        let view = try Self.tensor("I32", Self.bytes([Int32(-1), 0x7FC0_0000]), elementSize: 4, folder: folder)
        #expect(Self.count(view, .full) == NonFiniteCount())
    }

    /// A bf16 tensor of `count` ones (so larger than `smallTensorBytes`), with NaN at `nanAt`.
    static func large(count: Int, nanAt: [Int], folder: ScratchFolder) throws -> SafeTensorsFile {
        var values = [UInt16](repeating: 0x3F80, count: count)
        for i in nanAt { values[i] = 0x7FC0 }
        return try tensor("BF16", bytes(values), elementSize: 2, folder: folder)
    }

    @Test("sampled reads a few pages of a large tensor, including its first and last")
    func sampledLarge() throws {
        let folder = ScratchFolder()
        let count = WeightCheck.smallTensorBytes / 2 + 4096  // just over the full-scan size, in bf16
        let perWindow = WeightCheck.windowBytes / 2
        let view = try Self.large(count: count, nanAt: [0, count - 1, count / 2], folder: folder)
        let sampled = Self.count(view, .sampled)
        #expect(sampled.checked == WeightCheck.sampleWindows * perWindow)
        #expect(sampled.nan == 2, "the first and last elements are in the first and last windows; the middle one is missed")
        #expect(Self.count(view, .full) == NonFiniteCount(nan: 3, infinity: 0, checked: count))
        let allNaN = try Self.tensor("BF16", Self.bytes([UInt16](repeating: 0xFFC0, count: count)), elementSize: 2, folder: folder)
        #expect(Self.count(allNaN, .sampled).nan == sampled.checked, "an all-NaN tensor is found by sampling")
    }

    /// `blocks` blocks of `dtype` with finite f16 scales (0.5), `bad` blocks' scale at `offset`
    /// set to `bits`, checked as `check`.
    static func blockCount(_ dtype: DType, blocks: Int, bad: [Int], offset: Int, bits: UInt16,
                           _ check: WeightCheck) -> NonFiniteCount {
        var bytes = [UInt8](repeating: 0x11, count: blocks * dtype.byteSize)
        for b in 0..<blocks {
            for o in dtype.blockScaleOffsets { bytes[b * dtype.byteSize + o] = 0x00; bytes[b * dtype.byteSize + o + 1] = 0x38 }
        }
        for b in bad { bytes[b * dtype.byteSize + offset] = UInt8(bits & 0xFF); bytes[b * dtype.byteSize + offset + 1] = UInt8(bits >> 8) }
        return bytes.withUnsafeBytes {
            TensorView(name: "t", dtype: dtype, shape: [blocks * dtype.blockElements], data: $0.baseAddress!,
                       byteCount: $0.count, path: "test").nonFiniteCount(check)
        }
    }

    @Test("block formats: a NaN or infinite f16 scale (d or dmin) counts its whole block; the codes are not flagged")
    func blockScales() {
        for dtype in DType.allCases where dtype.isBlockFormat {
            let n = dtype.blockElements
            #expect(Self.blockCount(dtype, blocks: 3, bad: [], offset: 0, bits: 0, .full) == NonFiniteCount(checked: 3 * n), "\(dtype)")
            for offset in dtype.blockScaleOffsets {
                #expect(Self.blockCount(dtype, blocks: 3, bad: [1], offset: offset, bits: 0x7E00, .full)
                        == NonFiniteCount(nan: n, checked: 3 * n), "\(dtype) NaN at \(offset)")
                #expect(Self.blockCount(dtype, blocks: 3, bad: [0, 2], offset: offset, bits: 0xFC00, .sampled)
                        == NonFiniteCount(infinity: 2 * n, checked: 3 * n), "\(dtype) -inf at \(offset)")
            }
        }
        // Sampled: a large Q8_0 tensor is read in windows of blocks, the first and last included.
        let blocks = WeightCheck.smallTensorBytes / DType.q8_0.byteSize + 1000, perWindow = WeightCheck.windowBytes / 34
        let sampled = Self.blockCount(.q8_0, blocks: blocks, bad: [0, blocks / 2, blocks - 1], offset: 0, bits: 0x7E00, .sampled)
        #expect(sampled == NonFiniteCount(nan: 2 * 32, checked: WeightCheck.sampleWindows * perWindow * 32))
        let full = Self.blockCount(.q8_0, blocks: blocks, bad: [0, blocks / 2, blocks - 1], offset: 0, bits: 0x7E00, .full)
        #expect(full == NonFiniteCount(nan: 3 * 32, checked: blocks * 32))
    }

    @Test("a checkpoint check names the first bad tensor, its file and what was found")
    func checkpointNamesTensor() throws {
        let folder = ScratchFolder()
        let ones = Self.bytes([Float](repeating: 1, count: 4))
        let bad = Self.bytes([Float(1), .nan, .infinity, .nan])
        let path = try folder.write("model.safetensors", header: [
            "a.weight": ["dtype": "F32", "shape": [4], "data_offsets": [0, 16]],
            "b.weight": ["dtype": "F32", "shape": [2, 2], "data_offsets": [16, 32]],
            "c.weight": ["dtype": "F32", "shape": [4], "data_offsets": [32, 48]],
        ], data: ones + bad + bad)
        let checkpoint = try Checkpoint(directory: folder.url)
        try checkpoint.checkWeights(.full, tensors: ["a.weight"])
        for name in checkpoint.tensorNames { _ = try checkpoint.tensor(name) }
        let expected = WeightsError.nonFinite(path: path, tensor: "b.weight", nan: 2, infinity: 1, checked: 4, total: 4)
        #expect(throws: expected) { try checkpoint.checkWeights(.sampled) }
        #expect(expected.description == "\(path): tensor 'b.weight' has 2 NaN and 1 infinite values among the 4 elements checked; the weights are corrupt")
        try checkpoint.checkWeights(.none)
    }

    @Test("the message says how many of the elements were checked when sampling")
    func sampledMessage() {
        let error = WeightsError.nonFinite(path: "/m/x.safetensors", tensor: "lm_head.weight", nan: 8192, infinity: 0,
                                           checked: 8192, total: 1 << 30)
        #expect(error.description == "/m/x.safetensors: tensor 'lm_head.weight' has 8192 NaN values among the 8192 of 1073741824 elements checked; the weights are corrupt")
    }
}
