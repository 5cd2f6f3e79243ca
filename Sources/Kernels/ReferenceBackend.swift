import Foundation

/// The readable scalar reference: plain loops, one thread. Every fast path is checked
/// against it; it is far too slow for real models.
public struct ReferenceBackend: ComputeBackend {
    public init() {}
    public var name: String { "reference" }
    public var threads: Int { 1 }

    public func matmulBatch(_ items: [MatmulItem]) {
        for item in items { matmul(item.weight, item.x, tokens: item.tokens, item.y, bias: item.bias?.pointer) }
    }

    func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                bias: UnsafeMutablePointer<Float>?) {
        var row = [Float](repeating: 0, count: w.cols)
        for r in 0..<w.rows {
            row.withUnsafeMutableBufferPointer { w.row(r, into: $0.baseAddress!) }
            for t in 0..<tokens {
                var acc: Float = 0
                for c in 0..<w.cols { acc += row[c] * x[t * w.cols + c] }
                y[t * w.rows + r] = acc + (bias?[r] ?? 0)
            }
        }
    }

    public func attention(_ layout: AttentionLayout, q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                          kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>) {
        let (H, Hkv, D) = (layout.heads, layout.kvHeads, layout.headDim)
        func slot(_ t: Int, _ pos: Int, _ kvh: Int) -> Int {
            let block = Int(layout.blockTable[Int(layout.tableOffset[t]) + pos / layout.blockSize])
            return ((block * layout.blockSize + pos % layout.blockSize) * Hkv + kvh) * D
        }
        for t in 0..<layout.tokens {
            let n = Int(layout.context[t])
            for h in 0..<H {
                let kvh = h / (H / Hkv)
                let qh = q + (t * H + h) * D
                var scores = (0..<n).map { j -> Float in
                    let k = kCache + slot(t, j, kvh)
                    var dot: Float = 0
                    for i in 0..<D { dot += qh[i] * k[i] }
                    return dot * layout.scale
                }
                softmax(&scores)
                for i in 0..<D {
                    var acc: Float = 0
                    for j in 0..<n { acc += scores[j] * vCache[slot(t, j, kvh) + i] }
                    out[(t * H + h) * D + i] = acc
                }
            }
        }
    }
}
