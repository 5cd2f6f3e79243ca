import Engine
import Foundation
import Kernels
import Models
import OrderedJSON
import Sampling
import Testing

/// Speculative decoding with the checkpoint's MTP layer: every greedy event must be what plain
/// decoding gives (`SerialEngine`, one request at a time), whatever the drafts were. Sampled
/// requests keep their distributions (`SamplerTests.verification`) but spend their random draws
/// differently once drafts are verified, so they are checked near greedy and for reproducibility.
@Suite("Speculative decoding")
struct SpeculativeTests {
    func options(totalTokens: Int = 2048, chunk: Int? = nil, radix: Bool = true, drafts: Int = 1) -> EngineOptions {
        EngineOptions(chunkedPrefillSize: chunk, prefillLatencyFactor: nil, maxTotalTokens: totalTokens, blockSize: 4,
                      enableRadixCache: radix, checkInvariants: true, speculativeDraftTokens: drafts)
    }

    func run(_ scheduler: Scheduler, _ requests: [GenerationRequest]) throws -> [Transcript] {
        let transcripts = requests.map { request in
            let t = Transcript()
            scheduler.submit(request) { t.record($0) }
            return t
        }
        try drain(scheduler)
        return transcripts
    }

    @Test("the demo model's trained MTP layer: same greedy (and near-greedy sampled) output, most drafts accepted",
          arguments: [1, 3])
    func demoModel(drafts: Int) async throws {
        let model = try EngineFixtures.demoModel()
        // Chat prompts from the demo model's goldens (the rendered conversations), cut at a few places.
        let sequences = try EngineFixtures.demoSequences()
        try #require(sequences.count >= 2)
        let prompts = sequences.flatMap { s in [s, Array(s.prefix(s.count / 2)), Array(s.prefix(5))] }
        // Temperature 0.001 leaves one candidate in practice but verifies drafts by sampling.
        let requests = prompts.map { GenerationRequest(prompt: $0, maxTokens: 24, stopTokenIds: []) }
            + prompts.enumerated().map { i, prompt in
                GenerationRequest(prompt: prompt, maxTokens: 24, sampling: SamplingParameters(temperature: 0.001, seed: UInt64(i)),
                                  stopTokenIds: [])
            }
        let scheduler = try Scheduler(model: model, options: options(drafts: drafts))
        let transcripts = try run(scheduler, requests)
        for (request, t) in zip(requests, transcripts) {
            #expect(withoutCacheUsage(t.events) == (try await serialEvents(model, request)))
        }
        let stats = scheduler.stats
        #expect(stats.draftTokens > 50)
        #expect(stats.draftTokens > stats.draftRounds * (drafts - 1), "chains of \(drafts), shorter only near max_tokens")
        #expect(stats.acceptLength > 1.5, "accepted \(stats.acceptedDraftTokens) of \(stats.draftTokens) in \(stats.draftRounds) rounds")
        #expect(stats.steps < requests.count * 24, "accepted drafts save steps")
    }

    @Test("a random MTP layer (drafts mostly wrong), sampled requests, stops, chunked prefill and preemption",
          arguments: [true, false], [1, 3])
    func randomDrafts(radix: Bool, drafts: Int) async throws {
        let model = try EngineFixtures.model("mtp")
        var maker = PromptMaker(seed: 21, vocab: model.config.vocabSize)
        var requests: [GenerationRequest] = []
        for i in 0..<6 {
            let sampling = i % 3 == 2 ? SamplingParameters(temperature: 0.8, topP: 0.9, seed: UInt64(7 + i)) : .greedy
            requests.append(GenerationRequest(prompt: maker.tokens(maker.int(3...12)), maxTokens: 20, sampling: sampling,
                                              stopTokenIds: i == 1 ? [5, 9, 17] : [], topLogprobs: i == 0 ? 2 : nil))
        }
        // 6 requests of up to 31 positions in 96 slots: the newest are preempted and resume.
        let scheduler = try Scheduler(model: model, options: options(totalTokens: 96, chunk: 5, radix: radix, drafts: drafts))
        let transcripts = try run(scheduler, requests)
        for (request, t) in zip(requests, transcripts) where request.sampling.isGreedy {
            #expect(withoutCacheUsage(t.events) == (try await serialEvents(model, request)))
        }
        let again = try run(try Scheduler(model: model, options: options(totalTokens: 96, chunk: 5, radix: radix, drafts: drafts)),
                            requests)
        #expect(again.map { withoutCacheUsage($0.events) } == transcripts.map { withoutCacheUsage($0.events) })
        for (request, t) in zip(requests, transcripts) where !request.sampling.isGreedy {
            #expect(t.error == nil)
            #expect(t.events.count == request.maxTokens + 1, "20 tokens, then finished")
        }
        #expect(scheduler.stats.preemptions > 0)
        #expect(scheduler.stats.draftTokens > 0)
        #expect(scheduler.stats.usedBlocks == 0)
    }

    @Test("a request that fills the context to its last position ends normally (drafts stop short of max_tokens, so they fit)")
    func lastPosition() async throws {
        let model = try EngineFixtures.model("mtp")
        var maker = PromptMaker(seed: 22, vocab: model.config.vocabSize)
        let context = model.config.maxPositionEmbeddings
        let request = GenerationRequest(prompt: maker.tokens(10), maxTokens: context - 10)
        let scheduler = try Scheduler(model: model, options: options(drafts: 3))
        let t = try run(scheduler, [request])[0]
        #expect(t.error == nil)
        #expect(withoutCacheUsage(t.events) == (try await serialEvents(model, request)))
    }

    @Test("a checkpoint without an MTP layer cannot speculate")
    func needsMTP() throws {
        #expect(throws: EngineConfigurationError.self) {
            try Scheduler(model: try EngineFixtures.model(), options: options())
        }
    }
}
