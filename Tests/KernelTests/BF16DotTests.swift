import CKernels
import Kernels
import Testing
import Weights

/// `MatmulPrecision.bfloat16` (vdpbf16ps) against the reference backend fed the same
/// activations rounded to bf16: only f32 summation order separates the two. On a CPU without
/// AVX512-BF16 the precision must fall back to the f32 path bit for bit.
@Suite("bf16 activations")
struct BF16DotTests {
    typealias Matrix = KernelParityTests.Matrix

    /// f32 to bf16 and back, rounding to nearest even; subnormals to signed zero, as the kernels do.
    static func bf16Rounded(_ f: Float) -> Float {
        let u = f.bitPattern
        if u & 0x7F80_0000 == 0 { return f.sign == .minus ? -0.0 : 0.0 }
        if f.isNaN { return f }
        return Float(bitPattern: (u &+ 0x7FFF &+ ((u >> 16) & 1)) & 0xFFFF_0000)
    }

    static func product(_ backend: any ComputeBackend, _ w: WeightMatrix, _ x: [Float], tokens: Int,
                        bias: FloatVector? = nil) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.rows)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { backend.matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, bias: bias) }
        }
        return y
    }

    /// The weights each shape is tried with: bf16, and FP8 with per-row scales and with 64- and
    /// 128-wide scale blocks (GLM-4.5-FP8's), which the FP8 kernels apply per block of sums.
    static func matrices(rows: Int, cols: Int, seed: UInt64) throws -> [(String, Matrix)] {
        var rng = KernelParityTests.SplitMix(seed)
        var out = [("bf16", try Matrix(rows: rows, cols: cols, dtype: .bf16, seed: seed))]
        let perRow = FloatVector((0..<rows).map { _ in abs(rng.float()) + 0.1 })
        out.append(("fp8 row", try Matrix(rows: rows, cols: cols, dtype: .f8e4m3, scale: .perRow(perRow), seed: seed)))
        for block in [64, 128] {
            let count = ((rows + block - 1) / block) * ((cols + block - 1) / block)
            let scales = FloatVector((0..<count).map { _ in abs(rng.float()) + 0.1 })
            out.append(("fp8 block \(block)",
                        try Matrix(rows: rows, cols: cols, dtype: .f8e4m3, scale: .perBlock(scales, block: block), seed: seed)))
        }
        return out
    }

    @Test("products equal the reference on bf16-rounded activations, both regimes, ragged widths")
    func matchesRoundedReference() throws {
        let shapes: [(rows: Int, cols: Int)] = [(1, 1), (7, 5), (33, 16), (70, 131), (129, 260), (50, 2048)]
        for (i, shape) in shapes.enumerated() {
            for (kind, m) in try Self.matrices(rows: shape.rows, cols: shape.cols, seed: UInt64(20 + i)) {
                for tokens in [1, 2, 3, 4, 5, 8, 9, 16, 17, 33, 40] {
                    var rng = KernelParityTests.SplitMix(UInt64(tokens))
                    let x = (0..<tokens * shape.cols).map { _ in rng.float() }
                    let bias = tokens % 2 == 0 ? FloatVector((0..<shape.rows).map { _ in rng.float() }) : nil
                    let fast = Self.product(CPUBackend(threads: 2, precision: .bfloat16), m.matrix, x, tokens: tokens, bias: bias)
                    let exact = Self.product(CPUBackend(threads: 2), m.matrix, x, tokens: tokens, bias: bias)
                    let xRounded = x.map(Self.bf16Rounded)
                    let rounded = Self.product(ReferenceBackend(), m.matrix, xRounded, tokens: tokens, bias: bias)
                    let label = "\(kind) \(shape) tokens \(tokens)"
                    guard CPUBackend.hasBF16Dot else {
                        #expect(fast == exact, "\(label): without AVX512-BF16 the f32 path's bits")
                        continue
                    }
                    // Σ|w·x| bounds the summation-order error of each output.
                    let bound = Self.absoluteSums(m.matrix, xRounded, tokens: tokens)
                    let worst = zip(zip(fast, rounded), bound).reduce(Float(0)) { max($0, abs($1.0.0 - $1.0.1) / max($1.1, 1e-30)) }
                    #expect(worst <= 1e-6, "\(label): error \(worst) of Σ|w·x|")
                    if shape.cols >= 16 { #expect(fast != exact, "\(label): the bf16 path was not taken") }
                }
            }
        }
    }

    /// Σ_c |W[r, c] · x[t, c]| for every output [t, r].
    static func absoluteSums(_ w: WeightMatrix, _ x: [Float], tokens: Int) -> [Float] {
        var weights = [Float](repeating: 0, count: w.rows * w.cols)
        for r in 0..<w.rows { weights.withUnsafeMutableBufferPointer { w.row(r, into: $0.baseAddress! + r * w.cols) } }
        var sums = [Float](repeating: 0, count: tokens * w.rows)
        for t in 0..<tokens {
            for r in 0..<w.rows {
                var s: Float = 0
                for c in 0..<w.cols { s += abs(weights[r * w.cols + c] * x[t * w.cols + c]) }
                sums[t * w.rows + r] = s
            }
        }
        return sums
    }
}

extension BF16DotTests {
    @Test("a token alone gives the bits it gives in a gemv batch")
    func aloneEqualsBatched() throws {
        var rng = KernelParityTests.SplitMix(12)
        let cols = 260, x = (0..<5 * cols).map { _ in rng.float() }
        let backend = CPUBackend(threads: 2, precision: .bfloat16)
        for (kind, m) in try Self.matrices(rows: 33, cols: cols, seed: 6) {
            let alone = Self.product(backend, m.matrix, x, tokens: 1), batched = Self.product(backend, m.matrix, x, tokens: 5)
            #expect(alone == Array(batched.prefix(33)), "\(kind)")
        }
    }

    /// Items sharing an input share its bf16 rows (gemv) or packed Xᵀ (gemm), bf16 and FP8 weights
    /// alike; an f16 item beside them takes the f32 path. Each must give exactly what it gives alone.
    @Test("a batch sharing inputs across regimes and precisions gives each item's bits alone")
    func batch() throws {
        let a = try Matrix(rows: 70, cols: 131, dtype: .bf16, seed: 1), b = try Matrix(rows: 33, cols: 131, dtype: .f16, seed: 2)
        let c = try Self.matrices(rows: 40, cols: 131, seed: 3)[2].1
        var rng = KernelParityTests.SplitMix(5)
        let x = (0..<20 * 131).map { _ in rng.float() }
        let backend = CPUBackend(threads: 2, precision: .bfloat16)
        let items: [(Matrix, Int)] = [(a, 20), (b, 20), (c, 20), (a, 3), (c, 3), (b, 3)]
        let outputs = items.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.1 * $0.0.matrix.rows) }
        defer { outputs.forEach { $0.deallocate() } }
        x.withUnsafeBufferPointer { xp in
            backend.matmulBatch(zip(items, outputs).map { MatmulItem($0.0.matrix, xp.baseAddress!, tokens: $0.1, $1) })
        }
        for (i, (m, tokens)) in items.enumerated() {
            let batched = Array(UnsafeBufferPointer(start: outputs[i], count: tokens * m.matrix.rows))
            #expect(batched == Self.product(backend, m.matrix, x, tokens: tokens), "item \(i)")
        }
    }

    @Test("the backend names the bf16 path only where it runs")
    func name() {
        #expect(CPUBackend(threads: 1, precision: .bfloat16).name.hasSuffix("-bf16dot") == CPUBackend.hasBF16Dot)
        #expect(!CPUBackend(threads: 1).name.hasSuffix("-bf16dot"))
        let previous = glm_force_avx2(1)
        defer { glm_force_avx2(previous) }
        #expect(!CPUBackend.hasBF16Dot, "forcing AVX2 turns off vdpbf16ps")
    }
}
