import Engine
import Foundation
import Models
import Sampling
import Testing

/// Scheduler behaviour on a tiny fixture model (context 64, vocab 160), stepped by hand with the
/// invariants checked after every step. Outputs are compared with `SerialEngine`, one request
/// at a time.
@Suite("Batching scheduler")
struct SchedulerTests {
    let model: GLM4MoEModel
    init() throws { model = try EngineFixtures.model() }

    func options(chunk: Int? = nil, totalTokens: Int = 1024, blockSize: Int = 4, radix: Bool = true,
                 maxRunning: Int = 64, maxWaiting: Int = 1024) -> EngineOptions {
        EngineOptions(maxRunningRequests: maxRunning, maxWaitingRequests: maxWaiting, chunkedPrefillSize: chunk,
                      prefillLatencyFactor: nil, maxTotalTokens: totalTokens, blockSize: blockSize, enableRadixCache: radix, checkInvariants: true)
    }

    func submit(_ scheduler: Scheduler, _ request: GenerationRequest) -> (Int, Transcript) {
        let transcript = Transcript()
        let id = scheduler.submit(request) { transcript.record($0) }
        return (id, transcript)
    }

    /// Eight requests with different prompt and output lengths.
    func mixedRequests(seed: UInt64 = 1) -> [GenerationRequest] {
        var maker = PromptMaker(seed: seed, vocab: 150)
        return (0..<8).map { _ in GenerationRequest(prompt: maker.tokens(maker.int(1...30)), maxTokens: maker.int(1...20)) }
    }

    @Test("batched greedy output equals solo output", arguments: [nil, 1, 3, 16] as [Int?], [true, false])
    func batchedEqualsSolo(chunk: Int?, radix: Bool) async throws {
        let requests = mixedRequests()
        let scheduler = try Scheduler(model: model, options: options(chunk: chunk, radix: radix))
        let transcripts = requests.map { submit(scheduler, $0).1 }
        try drain(scheduler) { report in
            if let chunk { #expect(report.prefillTokens <= chunk, "prefill stays within the chunk budget") }
        }
        for (request, transcript) in zip(requests, transcripts) {
            #expect(withoutCacheUsage(transcript.events) == (try await serialEvents(model, request)))
        }
        #expect(scheduler.stats.running == 0 && scheduler.stats.usedBlocks == 0)
    }

    @Test("requests joining and leaving every step get the solo output")
    func staggeredArrivals() async throws {
        let requests = mixedRequests(seed: 2) + mixedRequests(seed: 3)
        let scheduler = try Scheduler(model: model, options: options(chunk: 5))
        var transcripts: [Transcript] = []
        var maxRunning = 0
        for request in requests {
            transcripts.append(submit(scheduler, request).1)
            scheduler.step()
            try scheduler.checkInvariants()
            maxRunning = max(maxRunning, scheduler.runningCount)
        }
        try drain(scheduler)
        #expect(maxRunning > 3, "requests overlapped")
        for (request, transcript) in zip(requests, transcripts) {
            #expect(transcript.tokens == (try await serialTokens(model, request)))
        }
    }

    @Test("a repeated prefix is served from the cache, with the same output")
    func prefixHits() async throws {
        var maker = PromptMaker(seed: 4, vocab: 150)
        let system = maker.tokens(22)  // 5 full blocks of 4, and 2 more tokens
        let scheduler = try Scheduler(model: model, options: options(chunk: 8))
        let first = GenerationRequest(prompt: system + maker.tokens(3), maxTokens: 6)
        let (_, t1) = submit(scheduler, first)
        try drain(scheduler)
        #expect(t1.usage?.cachedTokens == 0)

        // Three requests with the same system prompt, in one batch.
        let followers = (0..<3).map { _ in GenerationRequest(prompt: system + maker.tokens(maker.int(1...9)), maxTokens: 8) }
        let ts = followers.map { submit(scheduler, $0).1 }
        try drain(scheduler)
        for (request, transcript) in zip(followers, ts) {
            #expect(transcript.usage?.cachedTokens == 20, "the 5 full blocks of the system prompt were cached")
            #expect(transcript.tokens == (try await serialTokens(model, request)))
        }

        // Multi-turn: the next prompt is the previous prompt, its answer and a new message.
        let turn2 = GenerationRequest(prompt: first.prompt + t1.tokens + maker.tokens(5), maxTokens: 6)
        let (_, t2) = submit(scheduler, turn2)
        try drain(scheduler)
        let reusable = (first.prompt.count + t1.tokens.count - 1) / 4 * 4  // the last sampled token was never fed
        #expect(t2.usage?.cachedTokens == reusable, "the first turn's prompt and answer were cached")
        #expect(t2.tokens == (try await serialTokens(model, turn2)))

        // The exact same prompt again: everything but the last token's block comes from the cache.
        let (_, t3) = submit(scheduler, first)
        try drain(scheduler)
        #expect(t3.usage?.cachedTokens == 24)
        #expect(t3.tokens == t1.tokens)
        let stats = scheduler.stats
        #expect(stats.cachedPromptTokens == 20 * 3 + reusable + 24)
        #expect(stats.prefixHitRate > 0.5)
    }

    @Test("requests arriving together share the prefix the first one has computed")
    func prefixSharedWhileRunning() async throws {
        var maker = PromptMaker(seed: 5, vocab: 150)
        let system = maker.tokens(16)
        let scheduler = try Scheduler(model: model, options: options(chunk: 4))
        let a = GenerationRequest(prompt: system + maker.tokens(2), maxTokens: 10)
        let (_, ta) = submit(scheduler, a)
        for _ in 0..<5 { scheduler.step() }  // 18 prompt tokens in chunks of 4, then decoding
        let b = GenerationRequest(prompt: system + maker.tokens(2), maxTokens: 10)
        let (_, tb) = submit(scheduler, b)
        try drain(scheduler)
        #expect(tb.usage?.cachedTokens == 16, "a's full prompt blocks were cached while a was still running")
        #expect(ta.tokens == (try await serialTokens(model, a)))
        #expect(tb.tokens == (try await serialTokens(model, b)))
    }

    @Test("a long prompt is prefilled in chunks while running requests keep decoding")
    func chunkedPrefillKeepsDecoding() async throws {
        var maker = PromptMaker(seed: 6, vocab: 150)
        let short = (0..<3).map { _ in GenerationRequest(prompt: maker.tokens(3), maxTokens: 30) }
        let long = GenerationRequest(prompt: maker.tokens(50), maxTokens: 4)
        for chunk in [8, nil] as [Int?] {
            let scheduler = try Scheduler(model: model, options: options(chunk: chunk))
            let shortTs = short.map { submit(scheduler, $0).1 }
            for _ in 0..<2 { scheduler.step() }
            let (longID, longT) = submit(scheduler, long)
            var prefillSteps = 0
            try drain(scheduler) { report in
                guard report.prefillTokens > 0 else { return }
                prefillSteps += 1
                #expect(report.decodeTokens == 3, "all three short requests decode in every prefill step")
                #expect(report.prefillTokens <= chunk ?? 50)
                _ = longID
            }
            #expect(prefillSteps == (chunk.map { (50 + $0 - 1) / $0 } ?? 1))
            #expect(longT.tokens == (try await serialTokens(model, long)))
            for (request, t) in zip(short, shortTs) { #expect(t.tokens == (try await serialTokens(model, request))) }
        }
    }

    @Test("when blocks run out the newest request is preempted and later continues identically",
          arguments: [true, false])
    func preemption(radix: Bool) async throws {
        var maker = PromptMaker(seed: 7, vocab: 150)
        // Each needs 10 + 30 − 1 = 39 positions (10 blocks of 4); the cache holds 16 blocks.
        let requests = (0..<4).map { _ in GenerationRequest(prompt: maker.tokens(10), maxTokens: 30) }
        let scheduler = try Scheduler(model: model, options: options(chunk: 6, totalTokens: 64, radix: radix))
        let transcripts = requests.map { submit(scheduler, $0).1 }
        var preempted: [Int] = []
        try drain(scheduler) { preempted += $0.preempted }
        #expect(!preempted.isEmpty, "the budget forces preemption")
        #expect(scheduler.stats.preemptions == preempted.count)
        for (request, t) in zip(requests, transcripts) {
            #expect(withoutCacheUsage(t.events) == (try await serialEvents(model, request)))
            #expect(t.usage?.cachedTokens == 0, "cached tokens count the first admission only")
        }
        #expect(scheduler.stats.usedBlocks == 0)
    }

    @Test("per-request sampling, processors, stops and logprobs survive batching and preemption")
    func perRequestSampling() async throws {
        var maker = PromptMaker(seed: 8, vocab: 150)
        var requests: [GenerationRequest] = []
        for i in 0..<6 {
            let sampling = i % 3 == 0 ? SamplingParameters.greedy
                : SamplingParameters(temperature: 0.9, topK: i % 2 == 0 ? 20 : 0, topP: 0.95, seed: UInt64(100 + i))
            requests.append(GenerationRequest(
                prompt: maker.tokens(maker.int(4...14)), maxTokens: 24, sampling: sampling,
                stopTokenIds: i == 1 ? [7, 11, 42, 98] : [],
                processors: i % 2 == 1 ? [RepetitionPenalty(penalty: 1.5), BanTokens(tokens: [98, 13])] : [],
                topLogprobs: i == 2 ? 3 : nil))
        }
        let scheduler = try Scheduler(model: model, options: options(chunk: 5, totalTokens: 80))
        let transcripts = requests.map { submit(scheduler, $0).1 }
        var preemptions = 0
        try drain(scheduler) { preemptions += $0.preempted.count }
        #expect(preemptions > 0)
        for (request, t) in zip(requests, transcripts) {
            #expect(withoutCacheUsage(t.events) == (try await serialEvents(model, request)))
        }
    }

    @Test("FCFS admission up to max running requests")
    func admissionOrder() throws {
        var maker = PromptMaker(seed: 9, vocab: 150)
        let scheduler = try Scheduler(model: model, options: options(maxRunning: 2))
        let ids = (0..<4).map { i in submit(scheduler, GenerationRequest(prompt: maker.tokens(4), maxTokens: i < 2 ? 3 : 5)).0 }
        var admitted: [Int] = []
        try drain(scheduler) { report in
            admitted += report.admitted
            #expect(scheduler.runningCount <= 2)
        }
        #expect(admitted == ids, "admitted in arrival order")
    }

    @Test("a full waiting queue refuses requests")
    func overloaded() throws {
        let scheduler = try Scheduler(model: model, options: options(maxRunning: 1, maxWaiting: 2))
        let ts = (0..<5).map { _ in submit(scheduler, GenerationRequest(prompt: [1, 2, 3], maxTokens: 2)).1 }
        #expect(ts.prefix(3).allSatisfy { $0.error == nil }, "one running slot plus two waiting")
        for t in ts.suffix(2) { #expect(t.error as? EngineError == .overloaded(waiting: 3)) }
        try drain(scheduler)
        #expect(ts.prefix(3).allSatisfy { $0.finish == .length })
    }

    @Test("requests that cannot run fail at once")
    func rejections() throws {
        let scheduler = try Scheduler(model: model, options: options(totalTokens: 48))
        #expect(scheduler.contextLength == 48, "the KV budget is smaller than the model's 64 positions")
        let empty = submit(scheduler, GenerationRequest(prompt: [], maxTokens: 4)).1
        #expect(empty.error as? EngineError == .emptyPrompt)
        let long = submit(scheduler, GenerationRequest(prompt: [Int](repeating: 1, count: 40), maxTokens: 9)).1
        #expect(long.error as? EngineError == .contextLengthExceeded(promptTokens: 40, maxTokens: 9, contextLength: 48))
        let bad = submit(scheduler, GenerationRequest(prompt: [1, 160], maxTokens: 4)).1
        #expect(bad.error as? ModelError == .tokenOutOfRange(token: 160, vocabularySize: 160))
        let none = submit(scheduler, GenerationRequest(prompt: [1, 2], maxTokens: 0)).1
        #expect(none.finish == .length && none.tokens.isEmpty)
        #expect(scheduler.isIdle)
    }

    @Test("cancelling frees a request's blocks at once", arguments: [true, false])
    func cancellation(radix: Bool) throws {
        var maker = PromptMaker(seed: 10, vocab: 150)
        let scheduler = try Scheduler(model: model, options: options(chunk: 4, radix: radix, maxRunning: 1))
        let (running, tr) = submit(scheduler, GenerationRequest(prompt: maker.tokens(13), maxTokens: 40))
        let (waiting, tw) = submit(scheduler, GenerationRequest(prompt: maker.tokens(5), maxTokens: 40))
        for _ in 0..<6 { scheduler.step() }
        #expect(scheduler.stats.usedBlocks > 0)
        scheduler.cancel(running)
        scheduler.cancel(waiting)
        try scheduler.checkInvariants()
        #expect(tr.error is CancellationError && tw.error is CancellationError)
        #expect(scheduler.isIdle)
        let stats = scheduler.stats
        #expect(stats.usedBlocks == 0 && stats.freeBlocks + stats.cachedBlocks == stats.totalBlocks)
        #expect(radix ? stats.cachedBlocks > 0 : stats.cachedBlocks == 0, "computed full blocks stay cached when the cache is on")
        scheduler.cancel(running)  // twice: nothing happens
    }
}

/// Multiplies logits of tokens already generated (the CTRL penalty), remembering what it saw.
struct RepetitionPenalty: LogitProcessor {
    let penalty: Float
    var seen: Set<Int> = []
    mutating func process(_ logits: inout [Float], generated: [Int]) {
        precondition(seen == Set(generated), "didSample saw every generated token")
        for t in seen { logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty }
    }
    mutating func didSample(_ token: Int) { seen.insert(token) }
}

struct BanTokens: LogitProcessor {
    let tokens: [Int]
    func process(_ logits: inout [Float], generated: [Int]) { for t in tokens { logits[t] = -.infinity } }
}
