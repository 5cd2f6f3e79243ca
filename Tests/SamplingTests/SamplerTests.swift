import Sampling
import Testing

@Suite("Sampling")
struct SamplerTests {
    let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.5, 3.0]

    @Test("greedy picks the first of the largest logits")
    func greedy() {
        var sampler = Sampler(.greedy)
        #expect(sampler.sample(logits) == 1)
        #expect(Sampler.argmax([.nan, 1, 2]) == 2)
    }

    @Test("the same seed gives the same tokens; another seed gives others")
    func seeded() {
        let p = SamplingParameters(temperature: 1, seed: 42)
        var a = Sampler(p), b = Sampler(p), c = Sampler(SamplingParameters(temperature: 1, seed: 43))
        let x = (0..<200).map { _ in a.sample(logits) }
        let y = (0..<200).map { _ in b.sample(logits) }
        let z = (0..<200).map { _ in c.sample(logits) }
        #expect(x == y)
        #expect(x != z)
    }

    @Test("top-k keeps only the k most likely tokens")
    func topK() {
        let kept = Sampler.filteredDistribution(logits, SamplingParameters(temperature: 1, topK: 2)).map(\.token)
        #expect(kept == [1, 5])
    }

    @Test("top-p keeps the smallest set reaching p")
    func topP() {
        let all = Sampler.filteredDistribution(logits, SamplingParameters(temperature: 1))
        let p = all[0].probability + all[1].probability + 0.01
        let kept = Sampler.filteredDistribution(logits, SamplingParameters(temperature: 1, topP: p)).map(\.token)
        #expect(kept == [1, 5, 2])
        #expect(abs(Sampler.filteredDistribution(logits, SamplingParameters(temperature: 1, topP: p)).reduce(0) { $0 + $1.probability } - 1) < 1e-6)
    }

    @Test("min-p drops tokens below min-p × the best")
    func minP() {
        let kept = Sampler.filteredDistribution(logits, SamplingParameters(temperature: 1, minP: 0.5)).map(\.token)
        // exp(2.5 - 3) = 0.61 ≥ 0.5 stays; exp(1 - 3) = 0.14 goes.
        #expect(kept == [1, 5, 2])
    }

    @Test("temperature sharpens and flattens")
    func temperature() {
        let cold = Sampler.filteredDistribution(logits, SamplingParameters(temperature: 0.1))
        let hot = Sampler.filteredDistribution(logits, SamplingParameters(temperature: 10))
        #expect(cold.first!.probability > 0.49 && cold.first!.probability < 0.5, "two tied tokens share nearly all mass")
        #expect(hot.first!.probability < 0.25)
    }

    @Test("sample frequencies follow the distribution")
    func frequencies() {
        let probs = Sampler.filteredDistribution(logits, SamplingParameters(temperature: 1))
        var sampler = Sampler(SamplingParameters(temperature: 1, seed: 7))
        var counts = [Int](repeating: 0, count: logits.count)
        let n = 20000
        for _ in 0..<n { counts[sampler.sample(logits)] += 1 }
        for candidate in probs {
            let observed = Float(counts[candidate.token]) / Float(n)
            #expect(abs(observed - candidate.probability) < 0.015, "token \(candidate.token): \(observed) vs \(candidate.probability)")
        }
    }

    @Test("verifying a speculative draft keeps the target distribution, whichever token was drafted")
    func verification() {
        let parameters = SamplingParameters(temperature: 0.8, topK: 4, seed: 11)
        let probs = Sampler.filteredDistribution(logits, parameters)
        var sampler = Sampler(parameters)
        let n = 20000
        for draft in logits.indices {   // 3 and 4 are outside the top 4: never kept
            var counts = [Int](repeating: 0, count: logits.count)
            for _ in 0..<n { counts[sampler.verify(draft: draft, logits: logits)] += 1 }
            for token in logits.indices {
                let expected = probs.first { $0.token == token }?.probability ?? 0
                let observed = Float(counts[token]) / Float(n)
                #expect(abs(observed - expected) < 0.015, "draft \(draft), token \(token): \(observed) vs \(expected)")
            }
        }
        var greedy = Sampler(.greedy)
        #expect(greedy.verify(draft: 2, logits: logits) == 1)
    }
}
