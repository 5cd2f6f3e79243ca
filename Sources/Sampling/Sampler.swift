import Foundation

/// How to pick the next token from logits. Temperature 0 means greedy.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float
    /// Keep the k most likely tokens; 0 or less keeps all.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.
    public var topP: Float
    /// Drop tokens less likely than minP × the most likely one; 0 keeps all.
    public var minP: Float
    /// Same seed and logits ⇒ same tokens. nil draws a seed from the system.
    public var seed: UInt64?

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0, seed: UInt64? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)
    public var isGreedy: Bool { temperature <= 0 || topK == 1 }
}

/// Picks tokens from logits. Filters apply in the order transformers' `generate` uses:
/// temperature → top-k → top-p → min-p, then one draw from what remains.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: Xoshiro256

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = Xoshiro256(seed: parameters.seed ?? UInt64.random(in: .min ... .max))
    }

    public mutating func sample(_ logits: [Float]) -> Int {
        if parameters.isGreedy { return Self.argmax(logits) }
        let candidates = Self.filteredDistribution(logits, parameters)
        return draw(candidates) ?? Self.argmax(logits)
    }

    /// Verifies a speculative draft token against these logits (spec §4.3, one-hot draft): keeps
    /// it with probability p(draft), otherwise draws from p without it, renormalised. The result
    /// is distributed exactly as `sample` draws; it equals `draft` only when the draft is kept.
    public mutating func verify(draft: Int, logits: [Float]) -> Int {
        if parameters.isGreedy { return Self.argmax(logits) }
        let candidates = Self.filteredDistribution(logits, parameters)
        let draftProbability = candidates.first { $0.token == draft }?.probability ?? 0
        if random.nextUnit() < draftProbability { return draft }
        let others = candidates.filter { $0.token != draft }
        return draw(others, total: others.reduce(0) { $0 + $1.probability }) ?? draft
    }

    /// One token drawn by probability from `candidates`, whose probabilities add up to `total`
    /// (the last one when rounding leaves the draw past the end; nil when there are none).
    private mutating func draw(_ candidates: [(token: Int, probability: Float)], total: Float = 1) -> Int? {
        var u = random.nextUnit() * total
        for candidate in candidates {
            u -= candidate.probability
            if u < 0 { return candidate.token }
        }
        return candidates.last?.token
    }

    /// The lowest index of the largest value (NaN never wins).
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0, bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue {
            best = i
            bestValue = v
        }
        return best
    }

    /// The tokens that survive the filters, most likely first, with renormalised probabilities.
    public static func filteredDistribution(_ logits: [Float], _ p: SamplingParameters) -> [(token: Int, probability: Float)] {
        let scaled = logits.map { $0 / p.temperature }
        let maximum = scaled.max() ?? 0
        var candidates = scaled.enumerated().compactMap { i, v -> (token: Int, probability: Float)? in
            let e = (v - maximum).isNaN ? 0 : exp(v - maximum)
            return e > 0 ? (i, e) : nil
        }
        candidates.sort { $0.probability != $1.probability ? $0.probability > $1.probability : $0.token < $1.token }
        if p.topK > 0 && candidates.count > p.topK { candidates.removeLast(candidates.count - p.topK) }
        normalize(&candidates)
        if p.topP < 1 {
            var cumulative: Float = 0, keep = 0
            for c in candidates {
                keep += 1
                cumulative += c.probability
                if cumulative >= p.topP { break }
            }
            candidates.removeLast(candidates.count - keep)
            normalize(&candidates)
        }
        if p.minP > 0, let top = candidates.first?.probability {
            candidates.removeAll { $0.probability < p.minP * top }
            normalize(&candidates)
        }
        return candidates
    }

    private static func normalize(_ candidates: inout [(token: Int, probability: Float)]) {
        let sum = candidates.reduce(0) { $0 + $1.probability }
        guard sum > 0 else { return }
        for i in candidates.indices { candidates[i].probability /= sum }
    }
}
