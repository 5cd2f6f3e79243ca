import Engine
import Foundation
import Models
import Sampling
import Testing

/// The threaded engine behind `InferenceEngine`: concurrent streams, cancellation by dropping a
/// stream, overload, stats.
@Suite("Batching engine")
struct BatchingEngineTests {
    let model: GLM4MoEModel
    init() throws { model = try EngineFixtures.model() }

    func engine(_ options: EngineOptions) throws -> BatchingEngine {
        var options = options
        options.checkInvariants = true
        return try BatchingEngine(model: model, options: options)
    }

    /// Polls until `condition` holds (the scheduler thread publishes stats after each step).
    func eventually(_ what: Comment, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test("concurrent streams produce their solo outputs")
    func concurrentStreams() async throws {
        var maker = PromptMaker(seed: 21, vocab: 150)
        let system = maker.tokens(12)
        var requests: [GenerationRequest] = []
        for i in 0..<10 {
            let prompt: [Int] = (i % 2 == 0 ? system : []) + maker.tokens(maker.int(1...20))
            let sampling = i % 3 == 0 ? SamplingParameters(temperature: 0.7, seed: UInt64(i)) : .greedy
            requests.append(GenerationRequest(prompt: prompt, maxTokens: maker.int(1...25), sampling: sampling,
                                              topLogprobs: i == 4 ? 2 : nil))
        }
        let engine = try engine(EngineOptions(maxRunningRequests: 4, chunkedPrefillSize: 6, maxTotalTokens: 160, blockSize: 4))
        let results = try await withThrowingTaskGroup(of: (Int, [GenerationEvent]).self) { group in
            for (i, request) in requests.enumerated() {
                group.addTask {
                    var events: [GenerationEvent] = []
                    for try await event in engine.generate(request) { events.append(event) }
                    return (i, events)
                }
            }
            var results = [[GenerationEvent]](repeating: [], count: requests.count)
            for try await (i, events) in group { results[i] = events }
            return results
        }
        for (request, events) in zip(requests, results) {
            #expect(withoutCacheUsage(events) == (try await serialEvents(model, request)))
        }
        try await eventually("the last step's stats are published") { engine.stats.running == 0 && engine.stats.usedBlocks == 0 }
        let stats = engine.stats
        #expect(stats.finishedRequests == requests.count)
        #expect(stats.freeBlocks + stats.cachedBlocks == stats.totalBlocks)
        #expect(engine.invariantViolations.isEmpty, "\(engine.invariantViolations)")
    }

    @Test("dropping a stream cancels its request and frees its blocks")
    func cancelByDroppingStream() async throws {
        let engine = try engine(EngineOptions(maxTotalTokens: 256, blockSize: 4, enableRadixCache: false))
        // Gates hold the request at its 4th token, so it is surely unfinished when dropped.
        let gate = Gate()
        defer { gate.open() }
        let request = GenerationRequest(prompt: [1, 2, 3, 4, 5], maxTokens: 50, processors: [gate.processor(at: 3)])
        var count = 0
        for try await event in engine.generate(request) {
            if case .token = event { count += 1 }
            if count == 3 { break }  // leaving the loop drops the stream
        }
        gate.open()
        try await eventually("the request is cancelled") { engine.stats.running == 0 && engine.stats.waiting == 0 }
        #expect(engine.stats.freeBlocks == engine.stats.totalBlocks, "all blocks are free again")
        #expect(engine.stats.finishedRequests == 0, "it was cancelled, not finished")

        // Cancelling the consuming task works the same way.
        let second = Gate()
        defer { second.open() }
        let held = GenerationRequest(prompt: [1, 2, 3, 4, 5], maxTokens: 50, processors: [second.processor(at: 2)])
        let consumer = Task { for try await _ in engine.generate(held) {} }
        try await eventually("the request runs") { engine.stats.running == 1 }
        consumer.cancel()
        _ = await consumer.result
        second.open()
        try await eventually("the request is cancelled") { engine.stats.running == 0 && engine.stats.usedBlocks == 0 }
        #expect(engine.stats.finishedRequests == 0)
        #expect(engine.invariantViolations.isEmpty, "\(engine.invariantViolations)")
    }

    @Test("requests beyond the waiting queue get EngineError.overloaded")
    func overloaded() async throws {
        let engine = try engine(EngineOptions(maxRunningRequests: 1, maxWaitingRequests: 1, maxTotalTokens: 256, blockSize: 4))
        let gate = Gate()
        defer { gate.open() }
        // The first request holds the scheduler at its second token until the gate opens.
        let first = engine.generate(GenerationRequest(prompt: [1, 2, 3], maxTokens: 5, processors: [gate.processor(at: 1)]))
        var iterator = first.makeAsyncIterator()
        _ = try await iterator.next()
        try await eventually("the first request runs") { engine.stats.running == 1 }
        let second = engine.generate(GenerationRequest(prompt: [1, 2, 3], maxTokens: 2))
        await #expect(throws: EngineError.overloaded(waiting: 1), "one running, one waiting: the queue is full") {
            for try await _ in engine.generate(GenerationRequest(prompt: [4], maxTokens: 2)) {}
        }
        gate.open()
        var tokens = 0
        for try await event in second { if case .token = event { tokens += 1 } }
        #expect(tokens == 2, "the waiting request runs once the first is done")
        while try await iterator.next() != nil {}
    }

    @Test("invalid requests fail through the stream")
    func invalidRequests() async throws {
        let engine = try engine(EngineOptions(maxTotalTokens: 256, blockSize: 4))
        await #expect(throws: EngineError.emptyPrompt) {
            for try await _ in engine.generate(GenerationRequest(prompt: [], maxTokens: 3)) {}
        }
        await #expect(throws: EngineError.contextLengthExceeded(promptTokens: 60, maxTokens: 10, contextLength: 64)) {
            for try await _ in engine.generate(GenerationRequest(prompt: [Int](repeating: 3, count: 60), maxTokens: 10)) {}
        }
    }

    @Test("shutdown fails unfinished requests")
    func shutdown() async throws {
        let engine = try engine(EngineOptions(maxTotalTokens: 256, blockSize: 4))
        let gate = Gate()
        defer { gate.open() }
        let stream = engine.generate(GenerationRequest(prompt: [1, 2], maxTokens: 60, processors: [gate.processor(at: 1)]))
        var iterator = stream.makeAsyncIterator()
        _ = try await iterator.next()
        engine.shutdown()
        gate.open()
        await #expect(throws: CancellationError.self) {
            while try await iterator.next() != nil {}
        }
        await #expect(throws: CancellationError.self, "a stopped engine takes no requests") {
            for try await _ in engine.generate(GenerationRequest(prompt: [1], maxTokens: 1)) {}
        }
    }

    @Test("options that cannot work are refused up front")
    func configuration() throws {
        #expect(throws: EngineConfigurationError.self) {
            try BatchingEngine(model: model, options: EngineOptions(maxRunningRequests: 0))
        }
        #expect(throws: EngineConfigurationError.self) {
            try BatchingEngine(model: model, options: EngineOptions(maxTotalTokens: 3, blockSize: 4))
        }
        let budget = try EngineOptions(memFractionStatic: 0.5).kvBlockCount(for: model, memoryBytes: 1 << 30)
        let bytesPerBlock = 2 * 3 * 2 * 16 * 4 * 16  // K and V × layers × KV heads × head dim × f32 × block
        #expect(budget == ((1 << 29) - model.checkpoint.totalBytes) / bytesPerBlock)
        #expect(throws: EngineConfigurationError.self) {
            try EngineOptions(memFractionStatic: 0.5).kvBlockCount(for: model, memoryBytes: 1000)
        }
    }
}

/// Holds the scheduler thread (inside a request's logit processor) until opened, so tests can
/// act while a request is known to be running.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false

    func open() { condition.withLock { isOpen = true; condition.broadcast() } }

    func wait() { condition.withLock { while !isOpen { condition.wait() } } }

    /// A processor that waits at the gate before the request's token number `index` (0-based).
    func processor(at index: Int) -> any LogitProcessor { Waiter(gate: self, index: index) }

    struct Waiter: LogitProcessor {
        let gate: Gate
        let index: Int
        func process(_ logits: inout [Float], generated: [Int]) { if generated.count == index { gate.wait() } }
    }
}
