import Foundation
import Kernels

/// Grouped-query self-attention with optional q/k/v biases, per-head QK-norm and partial NeoX
/// RoPE, reading and writing a paged KV cache.
struct Attention {
    let q: WeightMatrix  // [Hq·D, H]
    let k: WeightMatrix  // [Hkv·D, H]
    let v: WeightMatrix  // [Hkv·D, H]
    let o: WeightMatrix  // [H, Hq·D]
    let qBias: FloatVector?, kBias: FloatVector?, vBias: FloatVector?
    let qNorm: [Float]?, kNorm: [Float]?  // [D], shared across heads
    let heads: Int, kvHeads: Int, headDim: Int, rotaryDim: Int
    let inverseFrequencies: [Float]
    let eps: Float

    init(_ loader: WeightLoader, prefix p: String, config c: GLM4MoEConfiguration) throws {
        let (H, D, Hq, Hkv) = (c.hiddenSize, c.headDim, c.numAttentionHeads, c.numKeyValueHeads)
        q = try loader.matrix("\(p).q_proj", rows: Hq * D, cols: H)
        k = try loader.matrix("\(p).k_proj", rows: Hkv * D, cols: H)
        v = try loader.matrix("\(p).v_proj", rows: Hkv * D, cols: H)
        o = try loader.matrix("\(p).o_proj", rows: H, cols: Hq * D)
        if c.attentionBias {
            qBias = FloatVector(try loader.vector("\(p).q_proj.bias", count: Hq * D))
            kBias = FloatVector(try loader.vector("\(p).k_proj.bias", count: Hkv * D))
            vBias = FloatVector(try loader.vector("\(p).v_proj.bias", count: Hkv * D))
        } else {
            (qBias, kBias, vBias) = (nil, nil, nil)
        }
        if c.useQKNorm {
            qNorm = try loader.vector("\(p).q_norm.weight", count: D)
            kNorm = try loader.vector("\(p).k_norm.weight", count: D)
        } else {
            (qNorm, kNorm) = (nil, nil)
        }
        (heads, kvHeads, headDim, rotaryDim) = (Hq, Hkv, D, c.rotaryDim)
        // inv_freq[j] = 1 / θ^(2j / rotaryDim), in f32 as transformers computes it.
        let theta = Float(c.ropeTheta)
        inverseFrequencies = (0..<rotaryDim / 2).map { 1 / pow(theta, Float(2 * $0) / Float(c.rotaryDim)) }
        eps = Float(c.rmsNormEps)
    }

    /// x: [T, H] → out: [T, H]. Stores this layer's keys and values for every token first, so a
    /// token attends to earlier tokens of its own sequence in the same batch.
    func callAsFunction(_ x: UnsafePointer<Float>, batch: ForwardBatch, layout: AttentionLayout, cache: PagedKVCache,
                        layer: Int, into out: UnsafeMutablePointer<Float>, backend: ComputeBackend) {
        let T = batch.tokens.count, D = headDim
        let qs = FloatBuffer(T * heads * D), ks = FloatBuffer(T * kvHeads * D), vs = FloatBuffer(T * kvHeads * D)
        backend.matmulBatch([
            MatmulItem(q, x, tokens: T, qs.pointer, bias: qBias),  // [T, Hq, D]
            MatmulItem(k, x, tokens: T, ks.pointer, bias: kBias),  // [T, Hkv, D]
            MatmulItem(v, x, tokens: T, vs.pointer, bias: vBias),  // [T, Hkv, D]
        ])
        if let qNorm, let kNorm {
            rmsNorm(qs.pointer, rows: T * heads, width: D, weight: qNorm, eps: eps, into: qs.pointer)
            rmsNorm(ks.pointer, rows: T * kvHeads, width: D, weight: kNorm, eps: eps, into: ks.pointer)
        }
        applyRotary(qs.pointer, tokens: T, heads: heads, headDim: D, rotaryDim: rotaryDim,
                    positions: batch.positions, inverseFrequencies: inverseFrequencies)
        applyRotary(ks.pointer, tokens: T, heads: kvHeads, headDim: D, rotaryDim: rotaryDim,
                    positions: batch.positions, inverseFrequencies: inverseFrequencies)
        let width = kvHeads * D
        for t in 0..<T {
            let slot = cache.slotOffset(blocks: batch.sequences[batch.sequenceIndex[t]].blocks, position: batch.positions[t])
            (cache.keys[layer] + slot).update(from: ks.pointer + t * width, count: width)
            (cache.values[layer] + slot).update(from: vs.pointer + t * width, count: width)
        }
        let attended = FloatBuffer(T * heads * D)
        backend.attention(layout, q: qs.pointer, out: attended.pointer, kCache: cache.keys[layer], vCache: cache.values[layer])
        backend.matmul(o, attended.pointer, tokens: T, out)  // [T, H]
    }
}
