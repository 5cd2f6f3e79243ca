import ArgumentParser
import Engine
import Foundation
import Kernels
import Models
import Sampling

#if canImport(Glibc)
import Glibc
#endif

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed on random prompt tokens.",
        discussion: """
            --scenario forward (default) times one sequence's forward passes. The others run the \
            serving engine in process, as `glm serve` does: throughput (aggregate tokens/s of \
            --concurrency streams of --prompt-len + --gen-len tokens), prefix (time to first token \
            with a --prefix-len prefix already served, against cold) and interference (the \
            inter-token latency of --streams running streams while a --long-prompt-len prompt arrives).
            """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case forward, throughput, prefix, interference
    }

    @OptionGroup var model: ModelOptions

    @Option(help: "forward, throughput, prefix or interference.")
    var scenario = Scenario.forward

    @Option(name: .customLong("prompt-len"), help: "Prompt tokens, prefilled in one forward pass.")
    var promptLength = 512

    @Option(name: .customLong("gen-len"), help: "Tokens decoded one at a time after the prompt.")
    var generateLength = 128

    @Option(help: "Seed for the random prompt.")
    var seed: UInt64 = 0

    @Option(help: "Concurrent streams for --scenario throughput, comma-separated (one run each).")
    var concurrency = "1,4,16"

    @Option(name: .customLong("prefix-len"), help: "Shared prefix tokens for --scenario prefix.")
    var prefixLength = 2000

    @Option(name: .customLong("long-prompt-len"), help: "The arriving prompt's tokens for --scenario interference.")
    var longPromptLength = 4000

    @Option(help: "Running streams for --scenario interference.")
    var streams = 4

    @Option(name: .customLong("chunked-prefill-size"), parsing: .unconditional, help: "As for glm serve (-1: whole prompts; default 512).")
    var chunkedPrefillSize: Int?

    @Flag(name: .customLong("disable-radix-cache"), help: "As for glm serve.")
    var disableRadixCache = false

    @OptionGroup var speculative: SpeculativeOptions

    func validate() throws {
        guard promptLength > 0 else { throw ValidationError("--prompt-len must be positive") }
        guard generateLength >= 0 else { throw ValidationError("--gen-len must not be negative") }
        guard prefixLength > 0 else { throw ValidationError("--prefix-len must be positive") }
        guard longPromptLength > 0 else { throw ValidationError("--long-prompt-len must be positive") }
        guard streams > 0 else { throw ValidationError("--streams must be positive") }
        _ = try concurrencyLevels()
    }

    func concurrencyLevels() throws -> [Int] {
        try concurrency.split(separator: ",").map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw ValidationError("--concurrency expects comma-separated positive counts, found '\($0)'")
            }
            return n
        }
    }

    func run() async throws {
        switch scenario {
        case .forward:
            try runForward()
        case .throughput:
            let (glm, options) = try servingModel()
            for level in try concurrencyLevels() {
                // A fresh engine per level, so no level reuses another's prefix cache.
                let engine = try BatchingEngine(model: glm, options: options)
                defer { engine.shutdown() }
                print(try await EngineBenchmark.run(engine: engine, concurrency: level, promptLength: promptLength,
                                                    genLength: max(1, generateLength), seed: seed))
                let stats = engine.stats
                if stats.draftTokens > 0 {
                    print(String(format: "  MTP drafts accepted: %d of %d (%.1f%%), %.2f tokens per verifying step, %d steps",
                                 stats.acceptedDraftTokens, stats.draftTokens, 100 * stats.draftAcceptanceRate,
                                 stats.acceptLength, stats.steps))
                }
            }
        case .prefix:
            let (glm, options) = try servingModel()
            let engine = try BatchingEngine(model: glm, options: options)
            defer { engine.shutdown() }
            print(try await EngineBenchmark.prefixReuse(engine: engine, prefixLength: prefixLength, seed: seed))
        case .interference:
            let (glm, options) = try servingModel()
            let engine = try BatchingEngine(model: glm, options: options)
            defer { engine.shutdown() }
            print(try await EngineBenchmark.longPromptInterference(engine: engine, streams: streams,
                                                                   longPromptLength: longPromptLength, seed: seed))
        }
    }

    /// One sequence's prefill and decode passes, timed.
    private func runForward() throws {
        let directory = try model.directory()
        let glm = try model.loadModel(from: directory)
        var random = Xoshiro256(seed: seed)
        // Ordinary vocabulary ids, away from the special tokens at the top of GLM's range.
        let vocab = min(glm.config.vocabSize, 150_000)
        let prompt = (0..<promptLength).map { _ in Int(random.next() % UInt64(vocab)) }
        let cache = glm.makeCache(tokens: promptLength + generateLength + 1)
        let sequence = KVSequence()
        let clock = ContinuousClock()

        var batch = ForwardBatch()
        batch.append(sequence, tokens: prompt, logits: .last)
        var logits: [[Float]] = []
        let prefill = try clock.measure { logits = try glm.forward(batch, cache: cache) }
        let token = Sampler.argmax(logits[0])
        /// gen_len greedy steps of `sequence`, one token each.
        func decodeSteps(_ sequence: KVSequence, from first: Int, cache: PagedKVCache) throws -> Duration {
            var token = first
            return try clock.measure {
                for _ in 0..<generateLength {
                    var step = ForwardBatch()
                    step.append(sequence, tokens: [token], logits: .last)
                    token = Sampler.argmax(try glm.forward(step, cache: cache)[0])
                }
            }
        }
        // As llama-bench's tg128@d512 (after the prompt) and tg128 (from an empty cache).
        let decode = try decodeSteps(sequence, from: token, cache: cache)
        let emptyDecode = try decodeSteps(KVSequence(), from: prompt[0], cache: glm.makeCache(tokens: generateLength + 1))
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("model: \(model.modelPath ?? directory.path)")
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        print("backend: \(glm.backend.name) threads: \(glm.backend.threads) build: \(build)")
        print("prompt_len: \(promptLength) gen_len: \(generateLength)")
        print(String(format: "prefill_tokens_per_s: %.2f", Double(promptLength) / seconds(prefill)))
        if generateLength > 0 {
            print(String(format: "decode_tokens_per_s: %.2f", Double(generateLength) / seconds(decode)))
            print(String(format: "decode_from_empty_tokens_per_s: %.2f", Double(generateLength) / seconds(emptyDecode)))
        }
        print("peak_rss_bytes: \(Int(usage.ru_maxrss) * 1024)")
    }

    /// The model and engine options of the serving scenarios, which run the batching engine in
    /// process (no HTTP); prints what they run on.
    private func servingModel() throws -> (GLM4MoEModel, EngineOptions) {
        setvbuf(stdout, nil, _IOLBF, 0)  // each result as it comes, also into a file
        let glm = try model.loadModel()
        var options = EngineOptions(maxRunningRequests: max(16, streams + 1, try concurrencyLevels().max() ?? 1))
        if let c = chunkedPrefillSize { options.chunkedPrefillSize = c > 0 ? c : nil }
        options.enableRadixCache = !disableRadixCache
        options.speculativeDraftTokens = try speculative.draftTokens
        print("model: \(model.modelPath ?? glm.checkpoint.directory.path)")
        print("backend: \(glm.backend.name) threads: \(glm.backend.threads) chunked_prefill: "
              + "\(options.chunkedPrefillSize.map(String.init) ?? "off") radix_cache: \(options.enableRadixCache)")
        return (glm, options)
    }
}
