import Engine
import Testing

@Suite("Prefill budget")
struct PrefillBudgetTests {
    /// A machine where a decode-only step takes 0.2 s and a step prefilling C tokens on top
    /// takes 0.2 + 0.3 + 0.01·C s (0.3: touching every expert's weights).
    func stepSeconds(prefill c: Int) -> Double { c == 0 ? 0.2 : 0.5 + 0.01 * Double(c) }

    /// Runs `steps` steps with `decoding` requests, recording each as the scheduler would.
    func run(_ budget: inout PrefillBudget, steps: Int, decoding: Int = 4,
             seconds: (Int) -> Double) -> (chunks: [Int], worst: Double) {
        var chunks: [Int] = [], worst = 0.0
        for _ in 0..<steps {
            let c = budget.tokens(decoding: decoding)
            let t = seconds(c)
            budget.record(seconds: t, decodeTokens: decoding, prefillTokens: c)
            chunks.append(c)
            worst = max(worst, t)
        }
        return (chunks, worst)
    }

    @Test("while decoding, the chunk converges to the size that keeps a step within the factor")
    func converges() {
        var budget = PrefillBudget(cap: 512, latencyFactor: 6, floor: 4)
        #expect(budget.tokens(decoding: 0) == 512, "nothing decoding: prefill at full size")
        #expect(budget.tokens(decoding: 4) == 0, "first a decode-only step, to measure it")
        budget.record(seconds: stepSeconds(prefill: 0), decodeTokens: 4, prefillTokens: 0)
        #expect(budget.tokens(decoding: 4) == 4, "no prefill measurement yet: start at the floor")
        let (chunks, worst) = run(&budget, steps: 100, seconds: stepSeconds)
        // 0.5 + 0.01·C = 6 × 0.2 ⇒ C = 70.
        let settled = chunks.suffix(20).filter { $0 > 0 }
        #expect(settled.allSatisfy { (66...70).contains($0) }, "converged to \(settled)")
        #expect(worst <= 6 * 0.2 + 1e-9, "no step ran over the factor on the way")
        #expect(chunks.filter { $0 == 0 }.count >= 100 / 17, "a decode-only step at least every 16 mixed ones")
        #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $1 <= max(4, 2 * $0) || $0 == 0 }, "at most doubling")
    }

    @Test("when even a small chunk is too slow, the chunk stays at the floor")
    func floorWins() {
        var budget = PrefillBudget(cap: 512, latencyFactor: 2, floor: 4)
        budget.record(seconds: 0.2, decodeTokens: 4, prefillTokens: 0)
        let (chunks, _) = run(&budget, steps: 30, seconds: stepSeconds)
        #expect(chunks.allSatisfy { $0 == 0 || $0 == 4 }, "\(chunks)")
    }

    @Test("a faster decode step (less load, or a smaller batch) is measured again")
    func remeasures() {
        var budget = PrefillBudget(cap: 512, latencyFactor: 6, floor: 4)
        budget.record(seconds: 0.2, decodeTokens: 4, prefillTokens: 0)
        _ = run(&budget, steps: 40, seconds: stepSeconds)
        #expect(budget.tokens(decoding: 8) == 0, "twice the decoding requests: measure a decode-only step again")
        budget.record(seconds: 0.4, decodeTokens: 8, prefillTokens: 0)
        #expect(budget.decodeSeconds == 0.4, "a new batch size replaces the old measurement")
        #expect(budget.tokens(decoding: 8) > 0)
    }

    @Test("the cap bounds the budget, and no cap or no factor means fixed sizes")
    func fixedSizes() {
        var capped = PrefillBudget(cap: 32, latencyFactor: 100, floor: 4)
        capped.record(seconds: 0.2, decodeTokens: 1, prefillTokens: 0)
        let (chunks, _) = run(&capped, steps: 10, decoding: 1) { 0.2 + 0.001 * Double($0) }
        #expect(chunks.last == 32 && chunks.max() == 32)
        let fixed = PrefillBudget(cap: 48, latencyFactor: nil)
        #expect(!fixed.adapts && fixed.tokens(decoding: 3) == 48)
        let unchunked = PrefillBudget(cap: nil, latencyFactor: 2)
        #expect(!unchunked.adapts && unchunked.tokens(decoding: 3) == .max)
        #expect(PrefillBudget(cap: 2, latencyFactor: 2, floor: 16).floor == 2, "the floor never exceeds the cap")
    }
}
