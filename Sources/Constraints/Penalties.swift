import Engine

/// OpenAI `presence_penalty` / `frequency_penalty` and HF-style `repetition_penalty`.
///
/// * presence and frequency count the tokens generated so far (as OpenAI, vLLM and SGLang do):
///   `logit -= presence · [count > 0] + frequency · count`;
/// * repetition (transformers' `RepetitionPenaltyLogitsProcessor`) covers prompt and generated
///   tokens: a positive logit is divided by the penalty, a negative one multiplied.
public struct PenaltyProcessor: LogitProcessor {
    public let presence: Float
    public let frequency: Float
    public let repetition: Float
    private var counts: [Int: Int] = [:]
    private var seen: Set<Int>

    /// - Parameter prompt: the prompt's tokens (used by the repetition penalty only).
    public init(prompt: [Int], presence: Float = 0, frequency: Float = 0, repetition: Float = 1) {
        self.presence = presence
        self.frequency = frequency
        self.repetition = repetition
        seen = repetition != 1 ? Set(prompt) : []
    }

    /// False when every penalty is neutral (the processor can be left out).
    public var isActive: Bool { presence != 0 || frequency != 0 || repetition != 1 }

    public mutating func process(_ logits: inout [Float], generated: [Int]) {
        if repetition != 1 {
            for t in seen where t >= 0 && t < logits.count {
                logits[t] = logits[t] > 0 ? logits[t] / repetition : logits[t] * repetition
            }
        }
        if presence != 0 || frequency != 0 {
            for (t, c) in counts where t >= 0 && t < logits.count {
                logits[t] -= presence + frequency * Float(c)
            }
        }
    }

    public mutating func didSample(_ token: Int) {
        counts[token, default: 0] += 1
        if repetition != 1 { seen.insert(token) }
    }
}

/// vLLM's `min_tokens` (SGLang's `min_new_tokens`): the stop tokens are forbidden until
/// `minimum` tokens have been generated.
public struct MinTokensProcessor: LogitProcessor {
    public let minimum: Int
    public let stopTokens: [Int]

    public init(minimum: Int, stopTokens: Set<Int>) {
        self.minimum = minimum
        self.stopTokens = stopTokens.sorted()
    }

    public mutating func process(_ logits: inout [Float], generated: [Int]) {
        guard generated.count < minimum else { return }
        for t in stopTokens where t >= 0 && t < logits.count { logits[t] = -.infinity }
    }
}

/// OpenAI `logit_bias`: a fixed amount added to given tokens' logits (−100 effectively bans a
/// token, +100 effectively forces it).
public struct LogitBiasProcessor: LogitProcessor {
    public let bias: [Int: Float]

    public init(bias: [Int: Float]) { self.bias = bias }

    public mutating func process(_ logits: inout [Float], generated: [Int]) {
        for (t, b) in bias where t >= 0 && t < logits.count { logits[t] += b }
    }
}
