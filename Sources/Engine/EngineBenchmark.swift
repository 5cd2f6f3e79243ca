import Foundation
import Sampling

/// The serving benchmarks of issue 5, measured in process against any `InferenceEngine` (no
/// HTTP): aggregate decode throughput at a concurrency, time to first token with a warm shared
/// prefix against cold, and running streams' inter-token latency while a long prompt arrives.
/// `Tools/loadgen/loadgen.py` measures the same three scenarios through `glm serve`.
///
/// Prompts are random ordinary token ids (below 150,000, away from GLM's special tokens) and
/// requests never stop early, so every stream generates exactly the tokens asked for.
public enum EngineBenchmark {
    public struct ThroughputResult: Sendable, CustomStringConvertible {
        public var concurrency: Int
        public var promptLength: Int
        public var genLength: Int
        public var generatedTokens: Int
        /// From the first request sent to the last token received.
        public var seconds: Double
        public var tokensPerSecond: Double { Double(generatedTokens) / seconds }
        /// Tokens per second once every stream has its first token (all decoding, no prefill).
        public var decodeTokensPerSecond: Double
        public var meanTimeToFirstToken: Double
        public var medianInterTokenLatency: Double
        public var maxInterTokenLatency: Double

        public var description: String {
            String(format: "concurrency %d: %d tokens in %.2f s = %.2f tok/s, decoding %.2f tok/s "
                       + "(ttft mean %.3f s, itl median %.3f s, max %.3f s)",
                   concurrency, generatedTokens, seconds, tokensPerSecond, decodeTokensPerSecond, meanTimeToFirstToken,
                   medianInterTokenLatency, maxInterTokenLatency)
        }
    }

    public struct PrefixResult: Sendable, CustomStringConvertible {
        public var prefixLength: Int
        public var suffixLength: Int
        /// A prompt whose prefix nobody has sent before.
        public var coldTimeToFirstToken: Double
        /// A prompt with the same prefix as a request already served (and a new suffix).
        public var warmTimeToFirstToken: Double
        /// Prompt tokens the warm request reported as cached.
        public var warmCachedTokens: Int
        public var ratio: Double { warmTimeToFirstToken / coldTimeToFirstToken }

        public var description: String {
            String(format: "prefix %d + suffix %d: cold ttft %.3f s, warm ttft %.3f s (%d cached) = %.1f%% of cold",
                   prefixLength, suffixLength, coldTimeToFirstToken, warmTimeToFirstToken, warmCachedTokens, ratio * 100)
        }
    }

    public struct InterferenceResult: Sendable, CustomStringConvertible {
        public var streams: Int
        public var longPromptLength: Int
        /// Median gap between tokens of the running streams before the long prompt arrived.
        public var usualInterTokenLatency: Double
        /// The longest gap before the long prompt arrived (the machine's own noise).
        public var worstInterTokenLatencyBefore: Double
        /// The longest gap of any running stream while the long prompt was being prefilled.
        public var worstInterTokenLatency: Double
        public var longPromptTimeToFirstToken: Double
        /// Streams that reached their max tokens before the long prompt's first token (they
        /// are missing from the worst gap; raise `streamMaxTokens` or the context).
        public var streamsRanOut: Int
        public var ratio: Double { worstInterTokenLatency / usualInterTokenLatency }

        public var description: String {
            String(format: "%d streams + %d-token prompt: usual itl %.3f s (worst before %.3f s), worst during prefill %.3f s "
                       + "(%.2f×), long ttft %.2f s",
                   streams, longPromptLength, usualInterTokenLatency, worstInterTokenLatencyBefore, worstInterTokenLatency,
                   ratio, longPromptTimeToFirstToken) + (streamsRanOut > 0 ? "; \(streamsRanOut) streams ran out first" : "")
        }
    }

    /// Token arrival times of one request, relative to a shared start.
    struct Trace: Sendable {
        var sent: Double
        var tokens: [Double] = []
        var cachedTokens = 0
        var gaps: [Double] { zip(tokens.dropFirst(), tokens).map { $0 - $1 } }
    }

    // MARK: - Scenarios

    /// `concurrency` streams at once, each a distinct `promptLength`-token prompt generating
    /// `genLength` tokens. A short warm-up request runs first (page in the weights).
    public static func run(engine: any InferenceEngine, concurrency: Int, promptLength: Int, genLength: Int,
                           seed: UInt64 = 0, warmUp: Bool = true) async throws -> ThroughputResult {
        precondition(concurrency > 0 && promptLength > 0 && genLength > 0)
        var random = Xoshiro256(seed: seed)
        let vocab = min(engine.model.config.vocabSize, 150_000)
        if warmUp { _ = try await trace(engine, prompt: prompt(&random, 8, vocab), maxTokens: 2, start: .now) }
        let prompts = (0..<concurrency).map { _ in prompt(&random, promptLength, vocab) }
        let start = ContinuousClock.now
        let traces = try await withThrowingTaskGroup(of: Trace.self) { group in
            for p in prompts { group.addTask { try await trace(engine, prompt: p, maxTokens: genLength, start: start) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let gaps = traces.flatMap(\.gaps).sorted()
        let end = traces.compactMap(\.tokens.last).max() ?? 0
        let allStarted = traces.compactMap(\.tokens.first).max() ?? 0
        let decoded = traces.reduce(0) { $0 + $1.tokens.filter { $0 > allStarted }.count }
        return ThroughputResult(
            concurrency: concurrency, promptLength: promptLength, genLength: genLength,
            generatedTokens: traces.reduce(0) { $0 + $1.tokens.count }, seconds: end,
            decodeTokensPerSecond: end > allStarted ? Double(decoded) / (end - allStarted) : 0,
            meanTimeToFirstToken: traces.reduce(0) { $0 + ($1.tokens.first ?? 0) - $1.sent } / Double(traces.count),
            medianInterTokenLatency: gaps.isEmpty ? 0 : gaps[gaps.count / 2],
            maxInterTokenLatency: gaps.last ?? 0)
    }

    /// Time to first token of `prefix + suffix` when nobody sent `prefix` before, then of
    /// `prefix + another suffix` right after (the prefix cache's case: a shared system prompt).
    public static func prefixReuse(engine: any InferenceEngine, prefixLength: Int = 2000, suffixLength: Int = 32,
                                   seed: UInt64 = 1) async throws -> PrefixResult {
        var random = Xoshiro256(seed: seed)
        let vocab = min(engine.model.config.vocabSize, 150_000)
        _ = try await trace(engine, prompt: prompt(&random, 8, vocab), maxTokens: 2, start: .now)
        let prefix = prompt(&random, prefixLength, vocab)
        let cold = try await trace(engine, prompt: prefix + prompt(&random, suffixLength, vocab), maxTokens: 1, start: .now)
        let warm = try await trace(engine, prompt: prefix + prompt(&random, suffixLength, vocab), maxTokens: 1, start: .now)
        return PrefixResult(prefixLength: prefixLength, suffixLength: suffixLength,
                            coldTimeToFirstToken: cold.tokens[0] - cold.sent, warmTimeToFirstToken: warm.tokens[0] - warm.sent,
                            warmCachedTokens: warm.cachedTokens)
    }

    /// `streams` requests decode steadily; after `settleTokens` tokens each, a
    /// `longPromptLength`-token prompt arrives. Compares the streams' usual gap between tokens
    /// with their worst gap until the long prompt's first token.
    public static func longPromptInterference(engine: any InferenceEngine, streams: Int = 4, longPromptLength: Int = 4000,
                                              streamPromptLength: Int = 32, streamMaxTokens: Int = 4096,
                                              settleTokens: Int = 8, seed: UInt64 = 2) async throws -> InterferenceResult {
        var random = Xoshiro256(seed: seed)
        let vocab = min(engine.model.config.vocabSize, 150_000)
        let context = engine.model.config.maxPositionEmbeddings
        _ = try await trace(engine, prompt: prompt(&random, 8, vocab), maxTokens: 2, start: .now)
        let streamPrompts = (0..<streams).map { _ in prompt(&random, streamPromptLength, vocab) }
        let longPrompt = prompt(&random, longPromptLength, vocab)
        let start = ContinuousClock.now
        let recorder = TraceRecorder(count: streams)
        // Streams run until cancelled (if they reach max tokens first, the measurement ends early).
        let maxTokens = min(streamMaxTokens, context - streamPromptLength - 1)
        let streamTasks = streamPrompts.enumerated().map { i, p in
            Task {
                let request = GenerationRequest(prompt: p, maxTokens: maxTokens)
                defer { recorder.end(i) }
                for try await event in engine.generate(request) {
                    if case .token = event { recorder.append(i, seconds(ContinuousClock.now - start)) }
                }
            }
        }
        defer { streamTasks.forEach { $0.cancel() } }
        while recorder.minimumCount < settleTokens { try await Task.sleep(for: .milliseconds(1)) }
        let long = try await trace(engine, prompt: longPrompt, maxTokens: 1, start: start)
        let arrival = long.sent, firstToken = long.tokens[0]
        // The streams report their tokens from their own tasks; wait until each running one has
        // reported one after the long prompt's first token, so that the gap spanning it is seen.
        while recorder.silent(since: firstToken).running > 0 { try await Task.sleep(for: .milliseconds(1)) }
        let ranOut = recorder.silent(since: firstToken).ended
        streamTasks.forEach { $0.cancel() }
        let traces = recorder.snapshot
        // Usual: gaps before the long prompt was sent, except each stream's first (it may share
        // a step with the other streams' prefill). Worst: gaps ending after the long prompt was
        // sent, up to and including the one spanning its first token.
        var usual: [Double] = [], worst = 0.0
        for times in traces {
            for (a, b) in zip(times, times.dropFirst()).dropFirst() {
                if b <= arrival { usual.append(b - a) }
                if b > arrival, a <= firstToken { worst = max(worst, b - a) }
            }
        }
        usual.sort()
        return InterferenceResult(streams: streams, longPromptLength: longPromptLength,
                                  usualInterTokenLatency: usual.isEmpty ? 0 : usual[usual.count / 2],
                                  worstInterTokenLatencyBefore: usual.last ?? 0,
                                  worstInterTokenLatency: worst, longPromptTimeToFirstToken: firstToken - arrival,
                                  streamsRanOut: ranOut)
    }

    // MARK: - Helpers

    static func prompt(_ random: inout Xoshiro256, _ count: Int, _ vocab: Int) -> [Int] {
        (0..<count).map { _ in Int(random.next() % UInt64(vocab)) }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func trace(_ engine: any InferenceEngine, prompt: [Int], maxTokens: Int, start: ContinuousClock.Instant)
        async throws -> Trace {
        var trace = Trace(sent: seconds(ContinuousClock.now - start))
        for try await event in engine.generate(GenerationRequest(prompt: prompt, maxTokens: maxTokens)) {
            switch event {
            case .token: trace.tokens.append(seconds(ContinuousClock.now - start))
            case .finished(_, let usage): trace.cachedTokens = usage.cachedTokens
            }
        }
        return trace
    }
}

/// Token times of several concurrent streams.
private final class TraceRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [[Double]]
    private var ended: [Bool]
    init(count: Int) {
        times = Array(repeating: [], count: count)
        ended = Array(repeating: false, count: count)
    }
    func append(_ stream: Int, _ t: Double) { lock.withLock { times[stream].append(t) } }
    func end(_ stream: Int) { lock.withLock { ended[stream] = true } }
    var minimumCount: Int { lock.withLock { times.map(\.count).min() ?? 0 } }
    var snapshot: [[Double]] { lock.withLock { times } }
    /// Streams without a token after `time`: still running, and ended.
    func silent(since time: Double) -> (running: Int, ended: Int) {
        lock.withLock {
            let silent = zip(times, ended).filter { ($0.0.last ?? 0) <= time }
            return (silent.filter { !$0.1 }.count, silent.filter { $0.1 }.count)
        }
    }
}
