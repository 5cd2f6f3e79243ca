import Models
import Sampling

/// Why a generation ended.
public enum FinishReason: Equatable, Sendable {
    /// A stop token was sampled.
    case stop(token: Int)
    /// max_tokens was reached.
    case length
}

/// Generates one sequence at a time in the calling thread (`glm generate`, `glm chat`), as
/// `SerialEngine` runs a request. It keeps the keys and values it computed, so a prompt that
/// starts like the previous prompt and its output (a chat's next turn) prefills only what is new.
public final class Generator {
    public let model: GLM4MoEModel
    /// Prompt tokens of the last `generate` whose keys and values an earlier call had computed.
    public private(set) var reusedPromptTokens = 0
    private var cache: PagedKVCache?
    private var sequence = KVSequence()
    /// The tokens whose keys and values `sequence` holds, in order.
    private var computed: [Int] = []

    public init(model: GLM4MoEModel) { self.model = model }

    /// - Parameters:
    ///   - stopTokens: generation ends after one of these (default: the model's eos tokens).
    ///   - onToken: called with each generated token as soon as it is chosen; return false to stop.
    @discardableResult
    public func generate(prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stopTokens: Set<Int>? = nil,
                         onToken: (Int) -> Bool = { _ in true }) throws -> (tokens: [Int], finish: FinishReason) {
        let request = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling,
                                        stopTokenIds: stopTokens ?? Set(model.config.eosTokenIds))
        let cache = cache(holding: prompt.count + maxTokens)
        var common = 0
        while common < min(computed.count, prompt.count - 1), computed[common] == prompt[common] { common += 1 }
        sequence.length = common  // positions past it are written again
        reusedPromptTokens = common

        let stopped = ManagedAtomicFlag()
        var tokens: [Int] = [], finish = FinishReason.length
        defer { computed = Array((prompt + tokens).prefix(sequence.length)) }
        try SerialEngine.run(request, model: model, cancelled: stopped, cache: cache, sequence: sequence) { event in
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

    /// The cache, replaced by one at least twice as large (up to the context) when it cannot
    /// hold `positions`; what the old one held is then computed again. (Past the context the
    /// request fails, and the cache is kept.)
    private func cache(holding positions: Int) -> PagedKVCache {
        let context = model.config.maxPositionEmbeddings
        if let cache, cache.blockCount * cache.blockSize >= positions || positions > context { return cache }
        let old = cache.map { $0.blockCount * $0.blockSize } ?? 0
        let fresh = model.makeCache(tokens: min(context, max(positions, 2 * old)))
        cache = fresh
        sequence = KVSequence()
        computed = []
        return fresh
    }
}
