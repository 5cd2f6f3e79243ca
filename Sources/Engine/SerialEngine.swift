import Foundation
import Models
import Sampling

/// The simplest real engine: runs requests one at a time, in arrival order, on a dedicated
/// thread. The batching scheduler replaces it for serving; it stays as a reference.
public final class SerialEngine: InferenceEngine, @unchecked Sendable {
    public let model: GLM4MoEModel
    private let queue = DispatchQueue(label: "glm.serial-engine")

    public init(model: GLM4MoEModel) { self.model = model }

    public func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let cancelled = ManagedAtomicFlag()
        continuation.onTermination = { _ in cancelled.set() }
        queue.async { [model] in
            do {
                try Self.run(request, model: model, cancelled: cancelled) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }

    /// Runs `request` to its end: the prompt in one pass, then one token per pass.
    private static func run(_ request: GenerationRequest, model: GLM4MoEModel, cancelled: ManagedAtomicFlag,
                            emit: (GenerationEvent) -> Void) throws {
        guard !request.prompt.isEmpty else { throw EngineError.emptyPrompt }
        let context = model.config.maxPositionEmbeddings
        guard request.prompt.count + request.maxTokens <= context else {
            throw EngineError.contextLengthExceeded(promptTokens: request.prompt.count, maxTokens: request.maxTokens,
                                                    contextLength: context)
        }
        let cache = model.makeCache(tokens: request.prompt.count + request.maxTokens)
        let sequence = KVSequence()
        var sampler = Sampler(request.sampling)
        var processors = request.processors
        var generated: [Int] = []
        var next = request.prompt
        var finish = FinishReason.length
        while generated.count < request.maxTokens, !cancelled.isSet {
            var batch = ForwardBatch()
            batch.append(sequence, tokens: next, logits: .last)
            var logits = try model.forward(batch, cache: cache)[0]
            try NextTokenLogits.process(&logits, processors: &processors, generated: generated)
            let token = sampler.sample(logits)
            for i in processors.indices { processors[i].didSample(token) }
            generated.append(token)
            let (logprob, top) = request.topLogprobs.map { Logprobs.of(token, in: logits, top: $0) } ?? (nil, [])
            emit(.token(id: token, logprob: logprob, topLogprobs: top))
            if request.stopTokenIds.contains(token) {
                finish = .stop(token: token)
                break
            }
            next = [token]
        }
        emit(.finished(finish, usage: Usage(promptTokens: request.prompt.count, completionTokens: generated.count)))
    }
}

/// Log-softmax helpers for `logprobs` / `top_logprobs`.
public enum Logprobs {
    /// The log-probability of `token` and the `top` most likely tokens under `logits` (ties to
    /// the lower id). Masked tokens (−∞) are never among them: OpenAI leaves out tokens that
    /// cannot be sampled, and JSON has no −∞.
    public static func of(_ token: Int, in logits: [Float], top: Int) -> (Float, [TokenLogprob]) {
        let maximum = logits.lazy.filter(\.isFinite).max() ?? 0
        var sum: Double = 0
        for v in logits where v.isFinite { sum += exp(Double(v - maximum)) }
        let logZ = Float(log(sum)) + maximum
        // The `top` best so far, best first: one pass over the vocabulary, not a sort of it.
        var best: [Int] = []
        if top > 0 {
            best.reserveCapacity(top + 1)
            for id in logits.indices where logits[id].isFinite {
                if best.count == top, logits[id] <= logits[best[top - 1]] { continue }
                let at = best.firstIndex { logits[id] > logits[$0] } ?? best.count
                best.insert(id, at: at)
                if best.count > top { best.removeLast() }
            }
        }
        return (logits[token] - logZ, best.map { TokenLogprob(id: $0, logprob: logits[$0] - logZ) })
    }
}

/// A flag set from any thread (cancellation).
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
