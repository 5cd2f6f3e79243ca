import ArgumentParser
import Foundation
import Kernels
import Models
import Sampling

#if canImport(Glibc)
import Glibc
#endif

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed on random prompt tokens."
    )

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("prompt-len"), help: "Prompt tokens, prefilled in one forward pass.")
    var promptLength = 512

    @Option(name: .customLong("gen-len"), help: "Tokens decoded one at a time after the prompt.")
    var generateLength = 128

    @Option(help: "Seed for the random prompt.")
    var seed: UInt64 = 0

    func validate() throws {
        guard promptLength > 0 else { throw ValidationError("--prompt-len must be positive") }
        guard generateLength >= 0 else { throw ValidationError("--gen-len must not be negative") }
    }

    func run() throws {
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
        var token = Sampler.argmax(logits[0])
        let decode = try clock.measure {
            for _ in 0..<generateLength {
                var step = ForwardBatch()
                step.append(sequence, tokens: [token], logits: .last)
                token = Sampler.argmax(try glm.forward(step, cache: cache)[0])
            }
        }
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
        }
        print("peak_rss_bytes: \(Int(usage.ru_maxrss) * 1024)")
    }
}
