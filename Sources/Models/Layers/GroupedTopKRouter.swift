import Foundation
import Kernels

/// The DeepSeek-V3 / GLM-4.5 "noaux_tc" router (spec §3.6): sigmoid scores in f32, a
/// correction bias that only affects which experts are chosen, group-limited top-k, then
/// weights from the unbiased scores, optionally renormalised, times a scaling factor.
struct GroupedTopKRouter {
    let gate: WeightMatrix          // [E, H], computed in f32
    let correctionBias: [Float]     // [E]
    let topK: Int
    let groups: Int
    let topKGroups: Int
    let normalize: Bool
    let scaling: Float

    struct Choice {
        var experts: [Int]   // K expert indices
        var weights: [Float] // K weights
    }

    /// x: [T, H] → one choice per token.
    func route(_ x: UnsafePointer<Float>, tokens T: Int, backend: ComputeBackend) -> [Choice] {
        let E = gate.rows
        let logits = FloatBuffer(T * E)
        backend.matmul(gate, x, tokens: T, logits.pointer)  // [T, E]
        return (0..<T).map { t in choose(scores: (0..<E).map { 1 / (1 + exp(-logits[t * E + $0])) }) }
    }

    /// Selection for one token from its sigmoid scores [E].
    func choose(scores: [Float]) -> Choice {
        let E = scores.count, perGroup = E / groups
        var biased = (0..<E).map { scores[$0] + correctionBias[$0] }
        if topKGroups < groups {
            // Group score = sum of its two best biased scores; experts outside the best
            // `topKGroups` groups are excluded (masked to -inf, as transformers 5.x does).
            let groupScores = (0..<groups).map { g -> Float in
                let best = biased[g * perGroup..<(g + 1) * perGroup].sorted(by: >)
                return best.prefix(2).reduce(0, +)
            }
            let kept = Set(Self.topIndices(groupScores, k: topKGroups))
            for e in 0..<E where !kept.contains(e / perGroup) { biased[e] = -.infinity }
        }
        let experts = Self.topIndices(biased, k: topK)
        var weights = experts.map { scores[$0] }
        if normalize {
            let sum = weights.reduce(0, +) + 1e-20
            weights = weights.map { $0 / sum }
        }
        return Choice(experts: experts, weights: weights.map { $0 * scaling })
    }

    /// Indices of the k largest values; ties go to the lower index.
    static func topIndices(_ values: [Float], k: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }.prefix(k))
    }
}
