import Models
import Sampling

/// Why a generation ended.
public enum FinishReason: Equatable, Sendable {
    /// A stop token was sampled.
    case stop(token: Int)
    /// max_tokens was reached.
    case length
}

/// Generates one sequence: prefill the prompt in one forward pass, then decode a token at a
/// time, stopping at an end-of-sequence token or after `maxTokens`.
public struct Generator {
    public let model: GLM4MoEModel

    public init(model: GLM4MoEModel) { self.model = model }

    /// - Parameter onToken: called with each generated token as soon as it is chosen; return
    ///   false to stop early.
    @discardableResult
    public func generate(prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stopTokens: Set<Int>? = nil,
                         onToken: (Int) -> Bool = { _ in true }) throws -> (tokens: [Int], finish: FinishReason) {
        guard !prompt.isEmpty else { throw ModelError.emptyPrompt }
        let stops = stopTokens ?? Set(model.config.eosTokenIds)
        let cache = model.makeCache(tokens: prompt.count + maxTokens)
        let sequence = KVSequence()
        defer { cache.release(sequence) }
        var sampler = Sampler(sampling)
        var generated: [Int] = []
        var next = prompt
        while generated.count < maxTokens {
            var batch = ForwardBatch()
            batch.append(sequence, tokens: next, logits: .last)
            let logits = try model.forward(batch, cache: cache)[0]
            let token = sampler.sample(logits)
            generated.append(token)
            if stops.contains(token) { return (generated, .stop(token: token)) }
            if !onToken(token) { break }
            next = [token]
        }
        return (generated, .length)
    }
}
