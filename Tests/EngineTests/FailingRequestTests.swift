import Engine
import Foundation
import Models
import Sampling
import Testing

/// A request whose logits cannot be sampled fails alone, with an error that says why; the
/// requests beside it run to the end as if it had never been there.
@Suite("Requests that fail mid-generation")
struct FailingRequestTests {
    /// From the `after`-th call on, does what `poison` says to the logits.
    struct Poison: LogitProcessor {
        let after: Int
        let poison: @Sendable (inout [Float]) -> Void
        var calls = 0
        mutating func process(_ logits: inout [Float], generated: [Int]) {
            calls += 1
            if calls > after { poison(&logits) }
        }
    }

    /// Gives up (as a constraint over its budget does) at its `after`-th call.
    struct GivesUp: LogitProcessor {
        let after: Int
        var calls = 0
        var failure: String? { calls > after ? "over budget" : nil }
        mutating func process(_ logits: inout [Float], generated: [Int]) { calls += 1 }
    }

    static let cases: [(any LogitProcessor, EngineError)] = [
        (Poison(after: 3) { $0[17] = .nan }, .nonFiniteLogits(token: 17, value: .nan)),
        (Poison(after: 2) { $0[5] = .infinity }, .nonFiniteLogits(token: 5, value: .infinity)),
        (Poison(after: 4) { for i in $0.indices { $0[i] = -.infinity } }, .noTokenAllowed),
        (GivesUp(after: 2), .constraintFailed("over budget")),
    ]

    static func sameError(_ a: Error?, _ b: EngineError) -> Bool {
        switch (a as? EngineError, b) {
        case (.nonFiniteLogits(let t, let v)?, .nonFiniteLogits(let u, let w)): t == u && (v == w || (v.isNaN && w.isNaN))
        case (let x?, let y): x == y
        default: false
        }
    }

    @Test("the scheduler fails that request only, at the step it went wrong", arguments: 0..<cases.count)
    func scheduler(index: Int) async throws {
        let (processor, expected) = Self.cases[index]
        let model = try EngineFixtures.model()
        let scheduler = try Scheduler(model: model, options: EngineOptions(
            maxRunningRequests: 4, maxWaitingRequests: 8, chunkedPrefillSize: nil, prefillLatencyFactor: nil,
            maxTotalTokens: 512, blockSize: 4, enableRadixCache: true, checkInvariants: true))
        var maker = PromptMaker(seed: 21, vocab: 150)
        let healthy = (0..<2).map { _ in GenerationRequest(prompt: maker.tokens(6), maxTokens: 12) }
        let sick = GenerationRequest(prompt: maker.tokens(5), maxTokens: 12, processors: [processor])
        let transcripts = (healthy + [sick]).map { request in
            let t = Transcript()
            scheduler.submit(request) { t.record($0) }
            return t
        }
        while !scheduler.isIdle {
            scheduler.step()
            try scheduler.checkInvariants()
        }
        let failed = transcripts[2]
        #expect(Self.sameError(failed.error, expected), "\(failed.error.map { "\($0)" } ?? "no error")")
        let expectedTokens = if case .constraintFailed = expected { 2 } else if case .noTokenAllowed = expected { 4 } else { 0 }
        if expectedTokens > 0 { #expect(failed.tokens.count == expectedTokens) }
        for (request, t) in zip(healthy, transcripts) {
            #expect(t.error == nil)
            #expect(withoutCacheUsage(t.events) == (try await serialEvents(model, request)))
        }
        let stats = scheduler.stats
        #expect(stats.usedBlocks == 0 && stats.freeBlocks + stats.cachedBlocks == stats.totalBlocks)
    }

    @Test("the serial engine fails the same way")
    func serial() async throws {
        let model = try EngineFixtures.model()
        for (processor, expected) in Self.cases {
            var error: Error?
            do {
                for try await _ in SerialEngine(model: model).generate(GenerationRequest(prompt: [1, 2, 3], maxTokens: 12,
                                                                                           processors: [processor])) {}
            } catch let e { error = e }
            #expect(Self.sameError(error, expected), "\(error.map { "\($0)" } ?? "no error")")
        }
    }
}
