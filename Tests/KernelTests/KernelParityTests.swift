import CKernels
import Foundation
import Kernels
import Testing
import Weights

/// Fast kernels against the scalar reference, in the spirit of llama.cpp's test-backend-ops:
/// every dtype, token counts on both sides of the gemv/gemm switch, ragged widths. Tests that
/// force an instruction set do so for their own thread only, so suites may run side by side.
@Suite("Kernel parity")
struct KernelParityTests {
    /// A weight matrix with its backing bytes kept alive.
    final class Matrix {
        let bytes: UnsafeMutableRawPointer
        let matrix: WeightMatrix
        init(rows: Int, cols: Int, dtype: DType, scale: WeightMatrix.Scale = .none, seed: UInt64) throws {
            var rng = SplitMix(seed)
            bytes = .allocate(byteCount: rows * cols * dtype.byteSize, alignment: 64)
            for i in 0..<rows * cols {
                let v = rng.float() * 0.5
                switch dtype {
                case .f32: bytes.storeBytes(of: v, toByteOffset: i * 4, as: Float.self)
                case .bf16: bytes.storeBytes(of: UInt16(v.bitPattern >> 16), toByteOffset: i * 2, as: UInt16.self)
                case .f16: bytes.storeBytes(of: Float16(v).bitPattern, toByteOffset: i * 2, as: UInt16.self)
                // Either sign, every exponent but the NaN one (subnormals included).
                case .f8e4m3: bytes.storeBytes(of: UInt8(truncatingIfNeeded: rng.next()) & 0xF7, toByteOffset: i, as: UInt8.self)
                default: fatalError("test dtype")
                }
            }
            let view = TensorView(name: "w", dtype: dtype, shape: [rows, cols], data: UnsafeRawPointer(bytes),
                                  byteCount: rows * cols * dtype.byteSize, path: "test")
            matrix = try WeightMatrix(view, scale: scale)
        }

        /// Random blocks of a ggml block format whose scale fields (f16) are set to small
        /// positive values, so every element is finite.
        init(rows: Int, cols: Int, blocks dtype: DType, seed: UInt64) throws {
            var rng = SplitMix(seed)
            let count = rows * (cols / dtype.blockElements), size = dtype.byteSize
            bytes = .allocate(byteCount: count * size, alignment: 64)
            for i in 0..<count * size { bytes.storeBytes(of: UInt8(truncatingIfNeeded: rng.next()), toByteOffset: i, as: UInt8.self) }
            let scaleOffsets: [Int] = switch dtype {
            case .q4_0, .q5_0, .q8_0, .iq4_NL, .iq4_XS: [0]
            case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
            case .q2_K: [80, 82]
            case .q3_K: [108]
            case .q6_K: [208]
            default: fatalError("test dtype")
            }
            for b in 0..<count {
                for offset in scaleOffsets {
                    let d = Float16(0.001 + abs(rng.float()) * 0.01)
                    bytes.storeBytes(of: d.bitPattern, toByteOffset: b * size + offset, as: UInt16.self)
                }
            }
            let view = TensorView(name: "w", dtype: dtype, shape: [rows, cols], data: UnsafeRawPointer(bytes),
                                  byteCount: count * size, path: "test")
            matrix = try WeightMatrix(view)
        }
        deinit { bytes.deallocate() }
    }

    struct SplitMix {
        var state: UInt64
        init(_ seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func float() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
    }

    static let shapes: [(rows: Int, cols: Int)] = [(1, 1), (7, 5), (33, 16), (64, 48), (70, 131), (129, 260)]
    static let tokenCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17, 20]

    func check(_ m: Matrix, tokens: Int, bias: Bool, label: String) {
        let w = m.matrix
        var rng = SplitMix(99)
        let x = (0..<tokens * w.cols).map { _ in rng.float() }
        let b = bias ? FloatVector((0..<w.rows).map { _ in rng.float() }) : nil
        var fast = [Float](repeating: .nan, count: tokens * w.rows), slow = fast
        x.withUnsafeBufferPointer { xp in
            fast.withUnsafeMutableBufferPointer { CPUBackend(threads: 2).matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, bias: b) }
            slow.withUnsafeMutableBufferPointer { ReferenceBackend().matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, bias: b) }
        }
        let scale = slow.reduce(Float(1)) { max($0, abs($1)) }
        let diff = zip(fast, slow).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(diff <= 1e-5 * scale * Float(w.cols).squareRoot(), "\(label) tokens \(tokens): max-abs \(diff)")
    }

    @Test("matmul matches the reference", arguments: [DType.f32, .bf16, .f16])
    func matmul(_ dtype: DType) throws {
        for (i, shape) in Self.shapes.enumerated() {
            let m = try Matrix(rows: shape.rows, cols: shape.cols, dtype: dtype, seed: UInt64(i))
            for tokens in Self.tokenCounts { check(m, tokens: tokens, bias: tokens % 2 == 0, label: "\(dtype) \(shape)") }
        }
    }

    /// The 2,048-column shape takes the AVX-512 kernel's row tiles (eight tokens' x exceeds L1).
    @Test("FP8 matmul with per-row and per-block scales matches the reference")
    func fp8() throws {
        for (i, shape) in (Self.shapes + [(rows: 40, cols: 2048)]).enumerated() {
            var rng = SplitMix(UInt64(i))
            let perRow = try Matrix(rows: shape.rows, cols: shape.cols, dtype: .f8e4m3,
                                    scale: .perRow(FloatVector((0..<shape.rows).map { _ in abs(rng.float()) + 0.1 })), seed: UInt64(i))
            for tokens in [1, 4, 9, 16, 17] { check(perRow, tokens: tokens, bias: false, label: "fp8 row \(shape)") }
            for block in [16, 128] {
                let blocks = ((shape.rows + block - 1) / block) * ((shape.cols + block - 1) / block)
                let perBlock = try Matrix(rows: shape.rows, cols: shape.cols, dtype: .f8e4m3,
                                          scale: .perBlock(FloatVector((0..<blocks).map { _ in abs(rng.float()) + 0.1 }), block: block),
                                          seed: UInt64(i))
                for tokens in [1, 4, 9, 16, 17] { check(perBlock, tokens: tokens, bias: true, label: "fp8 block \(block) \(shape)") }
            }
        }
    }

    static let blockFormats: [DType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .iq4_NL, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_XS]

    /// Products over block formats. Up to the gemv limit, and at every token count for the
    /// 256-weight super-block formats, the kernels quantise activations to int8 per block of the
    /// format (scale amax/127), which moves each x by at most half a step: the result may differ
    /// from dequantise-then-f32 by at most Σ|w|·step/2, and is checked against that bound and
    /// against the portable int8 path. Beyond it the 32-weight formats compute in f32 (gemm) and
    /// must match.
    func checkBlockFormat(_ m: Matrix, tokens: Int, bias: Bool, label: String) {
        let w = m.matrix
        // Q4_K and Q6_K take the f32 gemm from 128 tokens on AVX-512 (their rows widened in SIMD).
        let kquantGemm = tokens >= 128 && CPUBackend.isa == "avx512" && [DType.q4_K, .q6_K].contains(w.dtype)
        guard (tokens <= 8 || w.dtype.blockElements == 256) && !kquantGemm else { return check(m, tokens: tokens, bias: bias, label: label) }
        var rng = SplitMix(7)
        let x = (0..<tokens * w.cols).map { _ in rng.float() }
        let b = bias ? FloatVector((0..<w.rows).map { _ in rng.float() }) : nil
        var fast = [Float](repeating: .nan, count: tokens * w.rows), portable = fast, reference = fast
        x.withUnsafeBufferPointer { xp in
            fast.withUnsafeMutableBufferPointer { CPUBackend(threads: 2).matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, bias: b) }
            let previous = glm_force_portable(1)
            portable.withUnsafeMutableBufferPointer { CPUBackend(threads: 2).matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, bias: b) }
            glm_force_portable(previous)
            reference.withUnsafeMutableBufferPointer { ReferenceBackend().matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, bias: b) }
        }
        var row = [Float](repeating: 0, count: w.cols)
        for r in 0..<w.rows {
            row.withUnsafeMutableBufferPointer { w.row(r, into: $0.baseAddress!) }
            let magnitude = row.reduce(Float(0)) { $0 + abs($1) }
            for t in 0..<tokens {
                var bound: Float = 0
                let block = w.dtype.blockElements  // activations are scaled per 32 or per 256, as the format's blocks
                for c in stride(from: 0, to: w.cols, by: block) {
                    let step = x[(t * w.cols + c)..<(t * w.cols + c + block)].reduce(Float(0)) { max($0, abs($1)) } / 127
                    bound += row[c..<(c + block)].reduce(Float(0)) { $0 + abs($1) } * step / 2
                }
                let i = t * w.rows + r, noise = 1e-5 * magnitude
                #expect(abs(fast[i] - reference[i]) <= bound + noise, "\(label) tokens \(tokens) row \(r): \(fast[i]) vs f32 \(reference[i]), bound \(bound)")
                #expect(abs(fast[i] - portable[i]) <= noise, "\(label) tokens \(tokens) row \(r): \(fast[i]) vs portable int8 \(portable[i])")
                #expect(bound < 0.05 * magnitude, "\(label): the bound must be tight enough to test something")
            }
        }
    }

    @Test("matmul over ggml block formats: int8 within its rounding bound, f32 gemm exact, every ISA", arguments: blockFormats)
    func blockFormat(_ dtype: DType) throws {
        let n = dtype.blockElements
        for (i, shape) in [(1, n), (7, 2 * n), (33, 3 * n), (50, n)].enumerated() {
            let m = try Matrix(rows: shape.0, cols: shape.1, blocks: dtype, seed: UInt64(i))
            for force in [0, 1] {  // the widest ISA, then AVX2 (portable is the comparison inside)
                let avx2 = glm_force_avx2(Int32(force))
                defer { glm_force_avx2(avx2) }
                for tokens in [1, 2, 5, 8, 17, 20] + (n == 256 ? [130] : []) {
                    checkBlockFormat(m, tokens: tokens, bias: tokens % 2 == 1, label: "\(dtype) \(shape) \(CPUBackend.isa)")
                }
            }
        }
    }

    @Test("a batch of products, sharing inputs and mixing regimes, matches one at a time")
    func batch() throws {
        let a = try Matrix(rows: 70, cols: 131, dtype: .bf16, seed: 1), b = try Matrix(rows: 33, cols: 131, dtype: .f16, seed: 2)
        var rng = SplitMix(5)
        let x = (0..<20 * 131).map { _ in rng.float() }
        let bias = FloatVector((0..<33).map { _ in rng.float() })
        let outputs = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 20 * 70) }
        let references = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 20 * 70) }
        defer { (outputs + references).forEach { $0.deallocate() } }
        x.withUnsafeBufferPointer { xp in
            let x = xp.baseAddress!
            CPUBackend(threads: 2).matmulBatch([MatmulItem(a.matrix, x, tokens: 20, outputs[0]),
                                                MatmulItem(b.matrix, x, tokens: 20, outputs[1], bias: bias),
                                                MatmulItem(a.matrix, x, tokens: 3, outputs[2])])
            ReferenceBackend().matmul(a.matrix, x, tokens: 20, references[0])
            ReferenceBackend().matmul(b.matrix, x, tokens: 20, references[1], bias: bias)
            ReferenceBackend().matmul(a.matrix, x, tokens: 3, references[2])
        }
        let batched = (0..<3).map { Array(UnsafeBufferPointer(start: outputs[$0], count: 20 * 70)) }
        let single = (0..<3).map { Array(UnsafeBufferPointer(start: references[$0], count: 20 * 70)) }
        for (i, count) in [20 * 70, 20 * 33, 3 * 70].enumerated() {
            let diff = zip(batched[i].prefix(count), single[i].prefix(count)).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(diff <= 1e-4, "item \(i): max-abs \(diff)")
        }
    }

    /// At 2,048 columns five tokens' x exceeds L1 and the AVX-512 FP8 kernel tiles its rows.
    @Test("a token alone gives the bits it gives in a gemv batch, every float dtype and ISA", arguments: [260, 2048])
    func aloneEqualsBatched(cols: Int) throws {
        var rng = SplitMix(11)
        let x = (0..<5 * cols).map { _ in rng.float() }, blocks = (cols + 127) / 128
        let matrices = try [DType.f32, .bf16, .f16].map { try Matrix(rows: 33, cols: cols, dtype: $0, seed: 3) }
            + [Matrix(rows: 33, cols: cols, dtype: .f8e4m3,
                      scale: .perBlock(FloatVector((0..<blocks).map { [0.5, 2, 0.25][$0 % 3] }), block: 128), seed: 4),
               Matrix(rows: 33, cols: cols, dtype: .f8e4m3, scale: .perRow(FloatVector((0..<33).map { Float($0 % 5) + 0.5 })), seed: 5)]
        for avx2 in [Int32(0), 1] {
            let previous = glm_force_avx2(avx2)
            defer { glm_force_avx2(previous) }
            for m in matrices {
                var alone = [Float](repeating: .nan, count: 33), batched = [Float](repeating: .nan, count: 5 * 33)
                x.withUnsafeBufferPointer { xp in
                    alone.withUnsafeMutableBufferPointer { CPUBackend(threads: 2).matmul(m.matrix, xp.baseAddress!, tokens: 1, $0.baseAddress!) }
                    batched.withUnsafeMutableBufferPointer { CPUBackend(threads: 2).matmul(m.matrix, xp.baseAddress!, tokens: 5, $0.baseAddress!) }
                }
                #expect(alone == Array(batched.prefix(33)), "\(m.matrix.dtype) \(CPUBackend.isa)")
            }
        }
    }

    /// The block scales the load-time weight check reads (`DType.blockScaleOffsets`) are exactly
    /// the f16 fields the dequantiser scales by: an f16 NaN written at one of them makes the
    /// block dequantise to NaN, written anywhere else (codes, integer sub-block scales) it does not.
    @Test("the weight check's block-scale offsets are the dequantiser's f16 fields", arguments: blockFormats)
    func blockScaleOffsets(_ dtype: DType) {
        let codes: [DType: Int32] = [.q4_0: Int32(GLM_DTYPE_Q4_0), .q4_1: Int32(GLM_DTYPE_Q4_1), .q5_0: Int32(GLM_DTYPE_Q5_0),
                                     .q5_1: Int32(GLM_DTYPE_Q5_1), .q8_0: Int32(GLM_DTYPE_Q8_0), .iq4_NL: Int32(GLM_DTYPE_IQ4_NL),
                                     .q2_K: Int32(GLM_DTYPE_Q2_K), .q3_K: Int32(GLM_DTYPE_Q3_K), .q4_K: Int32(GLM_DTYPE_Q4_K),
                                     .q5_K: Int32(GLM_DTYPE_Q5_K), .q6_K: Int32(GLM_DTYPE_Q6_K), .iq4_XS: Int32(GLM_DTYPE_IQ4_XS)]
        let size = dtype.byteSize, offsets = dtype.blockScaleOffsets
        var out = [Float](repeating: 0, count: dtype.blockElements)
        for at in 0..<(size - 1) {
            // Every byte 0x33 (an f16 of about 0.24 wherever read as one, small integer fields elsewhere).
            var block = [UInt8](repeating: 0x33, count: size)
            block[at] = 0x00
            block[at + 1] = 0x7E
            block.withUnsafeBytes { glm_convert_to_f32($0.baseAddress, codes[dtype]!, Int64(dtype.blockElements), &out) }
            let overlapsScale = offsets.contains { $0 == at || $0 == at + 1 || $0 + 1 == at }
            if offsets.contains(at) {
                #expect(out.contains { $0.isNaN }, "\(dtype): NaN scale at \(at) should make the block NaN")
            } else if !overlapsScale {
                #expect(out.allSatisfy { $0.isFinite }, "\(dtype): bytes \(at)–\(at + 1) are not a float field")
            }
        }
    }

    @Test("FP8 E4M3 decoding: subnormals, max finite, NaN")
    func fp8Decode() {
        var out = [Float](repeating: 0, count: 5)
        let bytes: [UInt8] = [0x01, 0x7e, 0x38, 0xfe, 0x7f]
        bytes.withUnsafeBytes { glm_convert_to_f32($0.baseAddress, Int32(GLM_DTYPE_F8E4M3), 5, &out) }
        #expect(out[0] == 0x1p-9, "smallest subnormal is 2^-9")
        #expect(out[1] == 448, "0x7e is the largest finite value")
        #expect(out[2] == 1)
        #expect(out[3] == -448)
        #expect(out[4].isNaN, "S.1111.111 is NaN")
    }

    @Test("portable kernels match the SIMD kernels")
    func portable() throws {
        let m = try Matrix(rows: 70, cols: 131, dtype: .bf16, seed: 7)
        let previous = glm_force_portable(1)
        defer { glm_force_portable(previous) }
        for tokens in [1, 9] { check(m, tokens: tokens, bias: true, label: "portable") }
    }

    #if arch(x86_64) && os(Linux)
    @Test("the kernels use the widest instruction set the CPU has")
    func instructionSet() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(line.split(separator: " ").map(String.init))
        let avx2 = flags.isSuperset(of: ["avx2", "fma", "f16c"])
        let avx512 = avx2 && flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"])
        let expected = switch ProcessInfo.processInfo.environment["GLM_KERNELS"] {
        case "portable": "portable"
        case "avx2": avx2 ? "avx2" : "portable"
        default: avx512 ? "avx512" : avx2 ? "avx2" : "portable"
        }
        #expect(CPUBackend.isa == expected, "CPU flags: avx2 \(avx2), avx512 \(avx512)")
    }
    #endif

    @Test("AVX2 kernels match the reference, also on CPUs with AVX-512")
    func avx2() throws {
        let previous = glm_force_avx2(1)
        defer { glm_force_avx2(previous) }
        for (i, shape) in Self.shapes.enumerated() {
            let m = try Matrix(rows: shape.rows, cols: shape.cols, dtype: .bf16, seed: UInt64(i))
            for tokens in Self.tokenCounts { check(m, tokens: tokens, bias: tokens % 2 == 0, label: "\(CPUBackend.isa) \(shape)") }
        }
        for headDim in [16, 20, 128] { attention(headDim: headDim) }
    }

    /// The fast kernel's output, after checking it against the reference.
    @discardableResult
    func checkAttention(_ layout: AttentionLayout, q: [Float], k: [Float], v: [Float]) -> [Float] {
        var fast = [Float](repeating: .nan, count: q.count), slow = fast
        CPUBackend(threads: 2).attention(layout, q: q, out: &fast, kCache: k, vCache: v)
        ReferenceBackend().attention(layout, q: q, out: &slow, kCache: k, vCache: v)
        let diff = zip(fast, slow).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(diff <= 1e-5, "attention (\(CPUBackend.isa)) max-abs \(diff)")
        return fast
    }

    @Test("paged attention matches the reference", arguments: [16, 20, 128])
    func attention(headDim: Int) {
        let (H, Hkv, blockSize) = (6, 2, 4)
        var rng = SplitMix(UInt64(headDim))
        // Two sequences with scattered blocks: lengths 9 and 5, queries at their last 3 and 2 positions.
        let blocks = 8
        let cacheFloats = blocks * blockSize * Hkv * headDim
        let k = (0..<cacheFloats).map { _ in rng.float() }, v = (0..<cacheFloats).map { _ in rng.float() }
        let layout = AttentionLayout(heads: H, kvHeads: Hkv, headDim: headDim, blockSize: blockSize,
                                     blockTable: [5, 1, 7, 2, 6], tableOffset: [0, 0, 0, 3, 3],
                                     context: [7, 8, 9, 4, 5], scale: 1 / Float(headDim).squareRoot())
        let q = (0..<5 * H * headDim).map { _ in rng.float() }
        checkAttention(layout, q: q, k: k, v: v)
    }

    @Test("paged attention matches the reference on long prefill runs and decode tokens")
    func longAttention() {
        let (H, Hkv, headDim, blockSize) = (12, 2, 64, 16)
        var rng = SplitMix(11)
        // Sequence A: 7 prompt tokens at positions 293..<300 (runs of 4 and 3, keys past one
        // 256-key block); sequence B: one decode token at position 40. A's blocks are reversed.
        let blocksA = 19, blocksB = 3
        let cacheFloats = (blocksA + blocksB) * blockSize * Hkv * headDim
        let k = (0..<cacheFloats).map { _ in rng.float() }, v = (0..<cacheFloats).map { _ in rng.float() }
        let tableA = (0..<blocksA).map { Int32(blocksA - 1 - $0) }, tableB = (0..<blocksB).map { Int32(blocksA + $0) }
        let layout = AttentionLayout(heads: H, kvHeads: Hkv, headDim: headDim, blockSize: blockSize,
                                     blockTable: tableA + tableB, tableOffset: [Int64](repeating: 0, count: 7) + [Int64(blocksA)],
                                     context: (294...300).map { Int64($0) } + [41], scale: 1 / Float(headDim).squareRoot())
        let q = (0..<8 * H * headDim).map { _ in rng.float() }
        let fast = checkAttention(layout, q: q, k: k, v: v)
        // The decode token alone gives the same bits as batched with the prompt.
        let alone = AttentionLayout(heads: H, kvHeads: Hkv, headDim: headDim, blockSize: blockSize, blockTable: tableB,
                                    tableOffset: [0], context: [41], scale: layout.scale)
        var single = [Float](repeating: .nan, count: H * headDim)
        CPUBackend(threads: 2).attention(alone, q: Array(q[(7 * H * headDim)...]), out: &single, kCache: k, vCache: v)
        #expect(single == Array(fast[(7 * H * headDim)...]))
    }

    @Test("the thread pool runs every task exactly once")
    func pool() {
        let pool = ThreadPool(threads: 3)
        for count in [0, 1, 2, 5, 1000] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
            hits.initialize(repeating: 0, count: max(count, 1))
            pool.parallelFor(count) { task, _ in hits[task] += 1 }
            #expect((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count)")
            hits.deallocate()
        }
    }
}

/// Dequantisation of llama.cpp-made blocks (ggml_quantize_chunk) against gguf-py's
/// `gguf.quants.dequantize` on the same blocks: bit for bit (Tests/Fixtures/gguf/quants.gguf).
@Suite("Dequantisation against gguf-py")
struct DequantisationTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gguf/quants.gguf")
    static let types = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
                        "IQ4_NL", "IQ4_XS"]

    @Test("every type, bit-exact", arguments: types)
    func bitExact(_ type: String) throws {
        let gguf = try GGUFFile(path: Self.file.path)
        var checked = 0
        for suffix in ["", "1"] {
            guard let blocks = gguf.tensors["\(type).q\(suffix)"] else { continue }
            let expected = try #require(gguf.tensors["\(type).dq\(suffix)"])
            #expect(blocks.dtype.rawValue == type)
            #expect(blocks.shape == expected.shape)
            let ours = try floatArray(blocks), oracle = try floatArray(expected)
            #expect(ours.count == oracle.count && ours.count > 0)
            let mismatches = zip(ours, oracle).filter { $0.0.bitPattern != $0.1.bitPattern }
            #expect(mismatches.isEmpty, "\(type)\(suffix): \(mismatches.count) of \(ours.count) differ, first \(mismatches.first.map { "\($0)" } ?? "")")
            // A row of a matrix is its own slice of blocks.
            let w = try WeightMatrix(blocks)
            var row = [Float](repeating: 0, count: w.cols)
            row.withUnsafeMutableBufferPointer { w.row(w.rows - 1, into: $0.baseAddress!) }
            #expect(row == Array(oracle[((w.rows - 1) * w.cols)...]))
            checked += 1
        }
        #expect(checked >= 1)
    }
}
