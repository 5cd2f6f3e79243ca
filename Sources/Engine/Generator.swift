import Models
import Sampling

/// Why a generation ended.
public enum FinishReason: Equatable, Sendable {
    /// A stop token was sampled.
    case stop(token: Int)
    /// max_tokens was reached.
    case length
}

/// Generates one sequence in the calling thread (`glm generate`, `glm chat`): the prompt in one
/// forward pass, then a token at a time, as `SerialEngine` runs a request.
public struct Generator {
    public let model: GLM4MoEModel

    public init(model: GLM4MoEModel) { self.model = model }

    /// - Parameters:
    ///   - stopTokens: generation ends after one of these (default: the model's eos tokens).
    ///   - onToken: called with each generated token as soon as it is chosen; return false to stop.
    @discardableResult
    public func generate(prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stopTokens: Set<Int>? = nil,
                         onToken: (Int) -> Bool = { _ in true }) throws -> (tokens: [Int], finish: FinishReason) {
        let request = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling,
                                        stopTokenIds: stopTokens ?? Set(model.config.eosTokenIds))
        let stopped = ManagedAtomicFlag()
        var tokens: [Int] = [], finish = FinishReason.length
        try SerialEngine.run(request, model: model, cancelled: stopped) { event in
            switch event {
            case .token(let id, _, _):
                tokens.append(id)
                if !onToken(id) { stopped.set() }
            case .finished(let reason, _):
                finish = reason
            }
        }
        return (tokens, finish)
    }
}
