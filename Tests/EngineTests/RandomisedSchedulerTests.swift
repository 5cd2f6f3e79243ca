import Engine
import Foundation
import Models
import Sampling
import Testing

/// Seeded random workloads: arrivals, cancellations, prompt and output lengths, shared system
/// prompts, sampling settings and a KV budget that forces eviction and preemption. The
/// invariants hold after every step, and every request's output is the one it gets alone.
@Suite("Randomised scheduling")
struct RandomisedSchedulerTests {
    struct Case: Sendable, CustomStringConvertible {
        var seed: UInt64
        var radix: Bool
        var chunk: Int?
        var description: String { "seed \(seed), radix \(radix), chunk \(chunk.map(String.init) ?? "off")" }
    }

    @Test("hundreds of concurrent requests with cancellations under a tight KV budget",
          arguments: [Case(seed: 11, radix: true, chunk: 3), Case(seed: 12, radix: false, chunk: 7),
                      Case(seed: 13, radix: true, chunk: nil)])
    func randomised(_ c: Case) async throws {
        let model = try EngineFixtures.model()
        var rng = PromptMaker(seed: c.seed, vocab: 150)
        let systems = [rng.tokens(8), rng.tokens(13), rng.tokens(21)]
        let total = 110
        // 24 blocks of 4: one request may need 16 (64 positions), so a few at a time fit.
        let options = EngineOptions(maxRunningRequests: rng.int(4...8), maxWaitingRequests: 1000, chunkedPrefillSize: c.chunk,
                                    prefillLatencyFactor: nil, maxTotalTokens: 96, blockSize: 4, enableRadixCache: c.radix, checkInvariants: true)
        let scheduler = try Scheduler(model: model, options: options)

        var requests: [GenerationRequest] = [], transcripts: [Transcript] = [], ids: [Int] = []
        var cancelled = Set<Int>()  // indices
        var steps = 0, preemptions = 0
        while requests.count < total || !scheduler.isIdle {
            for _ in 0..<(requests.count < total ? rng.int(0...2) : 0) {
                let prompt = (rng.chance(0.6) ? systems[rng.int(0...2)] : []) + rng.tokens(rng.int(1...12))
                let sampled = rng.chance(0.3)
                let request = GenerationRequest(
                    prompt: prompt, maxTokens: rng.int(1...min(16, 64 - prompt.count)),
                    sampling: sampled ? SamplingParameters(temperature: 0.8, topP: 0.9, seed: rng.random.next()) : .greedy,
                    stopTokenIds: rng.chance(0.2) ? Set(rng.tokens(6)) : [])
                let transcript = Transcript()
                ids.append(scheduler.submit(request) { transcript.record($0) })
                requests.append(request)
                transcripts.append(transcript)
            }
            if rng.chance(0.08), !requests.isEmpty {
                let i = rng.int(0...requests.count - 1)
                if !transcripts[i].isDone { cancelled.insert(i) }
                scheduler.cancel(ids[i])
            }
            let report = scheduler.step()
            try scheduler.checkInvariants()
            preemptions += report.preempted.count
            steps += 1
            try #require(steps < 20_000, "the scheduler stopped making progress")
        }

        let stats = scheduler.stats
        #expect(preemptions > 0, "the budget forced preemption")
        #expect(cancelled.count >= 3)
        if c.radix { #expect(stats.cachedPromptTokens > 0, "shared system prompts hit the cache") }
        #expect(stats.running == 0 && stats.waiting == 0 && stats.usedBlocks == 0)
        #expect(stats.freeBlocks + stats.cachedBlocks == stats.totalBlocks)

        for (i, (request, transcript)) in zip(requests, transcripts).enumerated() {
            let solo = try await serialEvents(model, request)
            if cancelled.contains(i) {
                #expect(transcript.error is CancellationError)
                #expect(Array(solo.prefix(transcript.events.count)) == withoutCacheUsage(transcript.events),
                        "request \(i) was cancelled; what it produced before is the solo output")
            } else {
                #expect(withoutCacheUsage(transcript.events) == solo, "request \(i)")
            }
        }
    }
}
