import Engine
import Models
import Sampling
import Testing

@Suite("Generator")
struct GeneratorTests {
    /// What a new `Generator` (nothing computed before) makes of `prompt`, greedily.
    func fresh(_ model: GLM4MoEModel, _ prompt: [Int], maxTokens: Int) throws -> [Int] {
        try Generator(model: model).generate(prompt: prompt, maxTokens: maxTokens, sampling: .greedy, stopTokens: []).tokens
    }

    @Test("a prompt that continues the last prompt and output prefills only what is new, with the same output")
    func reusesWhatItComputed() throws {
        let model = try EngineFixtures.model()
        var prompts = PromptMaker(seed: 5, vocab: model.config.vocabSize)
        let generator = Generator(model: model)
        let first = prompts.tokens(10)
        let turn1 = try generator.generate(prompt: first, maxTokens: 30, sampling: .greedy, stopTokens: [])  // cache: 48 positions
        #expect(generator.reusedPromptTokens == 0)
        #expect(turn1.tokens == (try fresh(model, first, maxTokens: 30)))

        // The next turn: everything before it is held, but the last output token was never fed.
        let second = first + turn1.tokens + prompts.tokens(5)
        let turn2 = try generator.generate(prompt: second, maxTokens: 3, sampling: .greedy, stopTokens: [])
        #expect(generator.reusedPromptTokens == first.count + turn1.tokens.count - 1)
        #expect(turn2.tokens == (try fresh(model, second, maxTokens: 3)))

        // A prompt that differs from token 7 on (an edited history) reuses the 7 before it.
        let third = Array(second[..<7]) + prompts.tokens(second.count - 7)
        let turn3 = try generator.generate(prompt: third, maxTokens: 3, sampling: .greedy, stopTokens: [])
        #expect(generator.reusedPromptTokens == 7)
        #expect(turn3.tokens == (try fresh(model, third, maxTokens: 3)))

        // The same prompt again: all but its last token.
        _ = try generator.generate(prompt: third, maxTokens: 3, sampling: .greedy, stopTokens: [])
        #expect(generator.reusedPromptTokens == third.count - 1)
    }

    @Test("a conversation that outgrows the cache moves to a larger one and is computed again")
    func growsTheCache() throws {
        let model = try EngineFixtures.model()
        var prompts = PromptMaker(seed: 6, vocab: model.config.vocabSize)
        let generator = Generator(model: model)
        let first = prompts.tokens(8)
        let turn1 = try generator.generate(prompt: first, maxTokens: 4, sampling: .greedy, stopTokens: [])  // 16 positions
        let second = first + turn1.tokens + prompts.tokens(20)
        let turn2 = try generator.generate(prompt: second, maxTokens: 4, sampling: .greedy, stopTokens: [])
        #expect(generator.reusedPromptTokens == 0)
        #expect(turn2.tokens == (try fresh(model, second, maxTokens: 4)))
        let third = second + turn2.tokens + prompts.tokens(2)
        _ = try generator.generate(prompt: third, maxTokens: 4, sampling: .greedy, stopTokens: [])
        #expect(generator.reusedPromptTokens == second.count + turn2.tokens.count - 1)
    }

    @Test("a prompt longer than the context fails and leaves what was computed usable")
    func contextOverflow() throws {
        let model = try EngineFixtures.model()
        var prompts = PromptMaker(seed: 7, vocab: model.config.vocabSize)
        let generator = Generator(model: model)
        let first = prompts.tokens(12)
        let turn1 = try generator.generate(prompt: first, maxTokens: 12, sampling: .greedy, stopTokens: [])  // 32 positions
        let tooLong = first + prompts.tokens(model.config.maxPositionEmbeddings)
        #expect(throws: EngineError.self) {
            try generator.generate(prompt: tooLong, maxTokens: 4, sampling: .greedy, stopTokens: [])
        }
        let next = first + turn1.tokens + prompts.tokens(3)
        let turn2 = try generator.generate(prompt: next, maxTokens: 4, sampling: .greedy, stopTokens: [])
        #expect(generator.reusedPromptTokens == first.count)  // the failed prompt shared only `first`
        #expect(turn2.tokens == (try fresh(model, next, maxTokens: 4)))
    }
}
