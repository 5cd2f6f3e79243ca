import Engine
import Foundation
import Models
import Testing

/// The benchmark scenarios run end to end on the tiny model (the numbers mean nothing here; the
/// real measurements are on the benchmark checkpoint, see BENCHMARKS.md).
@Suite("Engine benchmark scenarios")
struct EngineBenchmarkTests {
    @Test("throughput, prefix reuse and long-prompt interference run and count what they should")
    func scenarios() async throws {
        let model = try EngineFixtures.model()
        let engine = try BatchingEngine(model: model, options: EngineOptions(chunkedPrefillSize: 8, maxTotalTokens: 512,
                                                                              blockSize: 4, checkInvariants: true))
        let throughput = try await EngineBenchmark.run(engine: engine, concurrency: 4, promptLength: 8, genLength: 6)
        #expect(throughput.generatedTokens == 24)
        #expect(throughput.tokensPerSecond > 0 && throughput.maxInterTokenLatency >= throughput.medianInterTokenLatency)

        let prefix = try await EngineBenchmark.prefixReuse(engine: engine, prefixLength: 40, suffixLength: 5)
        #expect(prefix.warmCachedTokens == 40, "the warm request reuses the whole prefix")
        #expect(prefix.coldTimeToFirstToken > 0 && prefix.warmTimeToFirstToken > 0)

        let interference = try await EngineBenchmark.longPromptInterference(
            engine: engine, streams: 2, longPromptLength: 40, streamPromptLength: 4, settleTokens: 4)
        // Streams end at the tiny model's 64-token context; on a loaded machine they may end
        // before the long prompt's first token, and then they must be reported as such.
        #expect(interference.usualInterTokenLatency > 0)
        #expect(interference.worstInterTokenLatency > 0 || interference.streamsRanOut == 2)
        #expect(engine.invariantViolations.isEmpty)
    }
}
