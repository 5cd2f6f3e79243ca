import Models
import Sampling

/// Why a generation ended.
public enum FinishReason: Equatable, Sendable {
    /// A stop token was sampled.
    case stop(token: Int)
    /// max_tokens was reached.
    case length
}

/// Generates one sequence at a time in the calling thread (`glm generate`, `glm chat`) through the
/// serving engine's `Scheduler`: the same forward passes, sampling and MTP speculative decoding as
/// `glm serve`. Its prefix cache keeps the blocks a request computed, so a prompt that starts like
/// an earlier prompt and its output (a chat's next turn) prefills only from the first block that
/// differs.
///
/// The KV cache is sized by what requests need rather than by a memory budget (a checkpoint may
/// be larger than memory; its weights are mapped): it is replaced by one at least twice as large,
/// up to the context, when a request needs more, and what the old one held is computed again.
public final class Generator {
    public let model: GLM4MoEModel
    /// Tokens the checkpoint's MTP layer drafts per step (0: none).
    public let speculativeDraftTokens: Int
    /// Prompt tokens of the last `generate` whose keys and values were already cached.
    public private(set) var reusedPromptTokens = 0
    private var scheduler: Scheduler

    /// - Parameter cacheTokens: positions the first KV cache holds (it grows as requests need).
    /// - Throws: `EngineConfigurationError` when drafts are asked of a checkpoint without an MTP
    ///   layer, or more than `EngineOptions.maxSpeculativeDraftTokens`.
    public init(model: GLM4MoEModel, speculativeDraftTokens: Int = 0, cacheTokens: Int = 256) throws {
        self.model = model
        self.speculativeDraftTokens = speculativeDraftTokens
        scheduler = try Self.scheduler(model, tokens: min(cacheTokens, model.config.maxPositionEmbeddings),
                                       drafts: speculativeDraftTokens)
    }

    /// The current cache's counters: drafted and kept tokens, prefix-cache hits.
    public var stats: EngineStats { scheduler.stats }

    /// - Parameters:
    ///   - stopTokens: generation ends after one of these (default: the model's eos tokens).
    ///   - onToken: called with each generated token as soon as it is chosen; return false to stop.
    @discardableResult
    public func generate(prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stopTokens: Set<Int>? = nil,
                         onToken: (Int) -> Bool = { _ in true }) throws -> (tokens: [Int], finish: FinishReason) {
        let context = model.config.maxPositionEmbeddings
        guard prompt.count + maxTokens <= context else {
            throw EngineError.contextLengthExceeded(promptTokens: prompt.count, maxTokens: maxTokens, contextLength: context)
        }
        try makeRoom(for: prompt.count + maxTokens)
        reusedPromptTokens = 0
        let request = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling,
                                        stopTokenIds: stopTokens ?? Set(model.config.eosTokenIds))
        var tokens: [Int] = [], finish = FinishReason.length, failure: Error?, done = false, stopped = false
        try withoutActuallyEscaping(onToken) { onToken in
            let id = scheduler.submit(request) { [self] output in
                switch output {
                case .event(.token(let token, _, _)):
                    guard !stopped else { return }  // a verifying step emits several
                    tokens.append(token)
                    stopped = !onToken(token)
                case .event(.finished(let reason, let usage)):
                    finish = reason
                    reusedPromptTokens = usage.cachedTokens
                    done = true
                case .failure(let error):
                    if !stopped { failure = error }
                    done = true
                }
            }
            while !done {
                if stopped {
                    scheduler.cancel(id)
                    break
                }
                guard scheduler.step().sequences > 0 else {
                    preconditionFailure("a cache sized for the request could not admit it")
                }
            }
        }
        if let failure { throw failure }
        return (tokens, finish)
    }

    /// Replaces the scheduler by a larger one when its cache cannot hold a request of `positions`.
    private func makeRoom(for positions: Int) throws {
        let stats = scheduler.stats
        let capacity = stats.totalBlocks * stats.blockSize
        guard capacity < Self.cacheTokens(for: positions, drafts: speculativeDraftTokens, blockSize: stats.blockSize) else {
            return
        }
        scheduler = try Self.scheduler(model, tokens: max(positions, min(2 * capacity, model.config.maxPositionEmbeddings)),
                                       drafts: speculativeDraftTokens)
    }

    /// Cache positions for a request of `positions`: its drafts and a spare block too.
    private static func cacheTokens(for positions: Int, drafts: Int, blockSize: Int) -> Int {
        positions + drafts + blockSize
    }

    /// One stream: whole prompts in one pass (no other stream waits on them), the prefix cache on.
    private static func scheduler(_ model: GLM4MoEModel, tokens positions: Int, drafts: Int) throws -> Scheduler {
        var options = EngineOptions(maxRunningRequests: 1, chunkedPrefillSize: nil, speculativeDraftTokens: drafts)
        options.maxTotalTokens = cacheTokens(for: positions, drafts: drafts, blockSize: options.blockSize)
        return try Scheduler(model: model, options: options)
    }
}
