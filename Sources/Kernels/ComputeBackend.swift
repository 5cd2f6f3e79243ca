import CKernels

/// Where each query token of a batch finds its keys in a paged KV cache.
public struct AttentionLayout {
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var blockSize: Int
    /// All sequences' block tables, concatenated.
    public var blockTable: [Int32]
    /// Per token: where its sequence's block table starts in `blockTable`.
    public var tableOffset: [Int64]
    /// Per token: how many keys it attends to (its position + 1).
    public var context: [Int64]
    public var scale: Float

    public init(heads: Int, kvHeads: Int, headDim: Int, blockSize: Int, blockTable: [Int32],
                tableOffset: [Int64], context: [Int64], scale: Float) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.blockSize = blockSize
        self.blockTable = blockTable
        self.tableOffset = tableOffset
        self.context = context
        self.scale = scale
    }

    public var tokens: Int { context.count }
}

/// One product y[t, :] = W x[t, :] + bias of a batch; pointers must stay valid for the call.
public struct MatmulItem {
    public var weight: WeightMatrix
    public var x: UnsafePointer<Float>
    public var tokens: Int
    public var y: UnsafeMutablePointer<Float>
    public var bias: FloatVector?

    public init(_ weight: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                bias: FloatVector? = nil) {
        self.weight = weight
        self.x = x
        self.tokens = tokens
        self.y = y
        self.bias = bias
    }
}

extension ComputeBackend {
    public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                       bias: FloatVector? = nil) {
        matmulBatch([MatmulItem(w, x, tokens: tokens, y, bias: bias)])
    }
}

/// The seam between model math and kernels: the coarse operations whose speed matters.
/// Model code calls only these (and the cheap elementwise functions in `Elementwise.swift`).
public protocol ComputeBackend: Sendable {
    var name: String { get }
    var threads: Int { get }

    /// Several independent products, possibly run together (one synchronisation).
    func matmulBatch(_ items: [MatmulItem])

    /// Causal attention of q [tokens, heads, headDim] over cached keys/values
    /// ([blocks, blockSize, kvHeads, headDim] each), written to out [tokens, heads, headDim].
    func attention(_ layout: AttentionLayout, q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                   kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>)
}

/// How products with bf16 and FP8 weights treat their activations.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    /// Activations stay f32: the exact path, matching the reference backend. The default.
    case float32
    /// Activations are rounded to bf16 and multiplied with vdpbf16ps (sums in f32), as llama.cpp's
    /// BF16 path does; FP8 weights are widened to bf16 exactly (with AVX512-VBMI). On a CPU
    /// without AVX512-BF16 this is `float32`.
    case bfloat16
}

/// The fast CPU path: SIMD kernels (AVX-512 when present) on a persistent thread pool.
public final class CPUBackend: ComputeBackend, @unchecked Sendable {
    public let pool: ThreadPool
    public let precision: MatmulPrecision

    public init(threads: Int? = nil, precision: MatmulPrecision = .float32) {
        pool = ThreadPool(threads: threads)
        self.precision = precision
    }

    public var name: String { "cpu-\(CPUBackend.isa)" + (usesBF16Dot ? "-bf16dot" : "") }
    public var threads: Int { pool.threads }

    /// The instruction set the kernels chose on this machine.
    public static var isa: String { String(cString: glm_kernel_isa()) }

    /// Whether this CPU has the vdpbf16ps path that `.bfloat16` selects.
    public static var hasBF16Dot: Bool { glm_bf16_dot_available() != 0 }

    /// Whether bf16- and FP8-weight products take vdpbf16ps here.
    public var usesBF16Dot: Bool { precision == .bfloat16 && CPUBackend.hasBF16Dot }

    public func matmulBatch(_ items: [MatmulItem]) {
        let matrices = items.map(\.weight.cMatrix)
        let precision = Int32(self.precision == .bfloat16 ? GLM_PRECISION_BF16 : GLM_PRECISION_F32)
        matrices.withUnsafeBufferPointer { m in
            let cItems = items.enumerated().map { i, item in
                glm_matmul_item(w: m.baseAddress! + i, x: item.x, tokens: Int64(item.tokens), ldx: Int64(item.weight.cols),
                                y: item.y, ldy: Int64(item.weight.rows), bias: item.bias.map { UnsafePointer($0.pointer) },
                                precision: precision)
            }
            withExtendedLifetime(items) {
                pool.run { glm_matmul_batch($0, cItems, Int64(cItems.count)) }
            }
        }
    }

    public func attention(_ layout: AttentionLayout, q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                          kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>) {
        layout.blockTable.withUnsafeBufferPointer { table in
            layout.tableOffset.withUnsafeBufferPointer { offsets in
                layout.context.withUnsafeBufferPointer { context in
                    pool.run {
                        glm_attention($0, q, out, Int64(layout.tokens), Int64(layout.heads), Int64(layout.kvHeads),
                                      Int64(layout.headDim), kCache, vCache, Int64(layout.blockSize),
                                      table.baseAddress, offsets.baseAddress, context.baseAddress, layout.scale)
                    }
                }
            }
        }
    }
}
