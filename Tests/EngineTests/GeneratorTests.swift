import Engine
import Models
import Sampling
import Testing

/// `Generator` (`glm generate`, `glm chat`): one request at a time through the scheduler, whose
/// prefix cache keeps what earlier requests computed in full 16-token blocks. Every output is
/// compared with `SerialEngine`'s, which computes each prompt from nothing.
@Suite("Generator")
struct GeneratorTests {
    func reference(_ model: GLM4MoEModel, _ prompt: [Int], maxTokens: Int) async throws -> [Int] {
        try await serialTokens(model, GenerationRequest(prompt: prompt, maxTokens: maxTokens))
    }

    func generate(_ generator: Generator, _ prompt: [Int], maxTokens: Int) throws -> [Int] {
        try generator.generate(prompt: prompt, maxTokens: maxTokens, sampling: .greedy, stopTokens: []).tokens
    }

    /// Prompt tokens in the full blocks of what was computed (the last output token never is).
    func fullBlocks(_ computed: Int) -> Int { computed / 16 * 16 }

    @Test("a prompt that continues the last prompt and output prefills only from its first new block, with the same output")
    func reusesWhatItComputed() async throws {
        let model = try EngineFixtures.model()
        var prompts = PromptMaker(seed: 5, vocab: model.config.vocabSize)
        let generator = try Generator(model: model)
        let first = prompts.tokens(10)
        let turn1 = try generate(generator, first, maxTokens: 30)
        #expect(generator.reusedPromptTokens == 0)
        #expect(turn1 == (try await reference(model, first, maxTokens: 30)))

        // The next turn: all but the last output token were computed.
        let second = first + turn1 + prompts.tokens(5)
        let turn2 = try generate(generator, second, maxTokens: 3)
        #expect(generator.reusedPromptTokens == fullBlocks(first.count + turn1.count - 1))
        #expect(turn2 == (try await reference(model, second, maxTokens: 3)))

        // A prompt that differs from token 20 on (an edited history) reuses the block before it.
        let third = Array(second[..<20]) + prompts.tokens(second.count - 20)
        let turn3 = try generate(generator, third, maxTokens: 3)
        #expect(generator.reusedPromptTokens == 16)
        #expect(turn3 == (try await reference(model, third, maxTokens: 3)))

        // The same prompt again.
        _ = try generate(generator, third, maxTokens: 3)
        #expect(generator.reusedPromptTokens == fullBlocks(third.count - 1))
    }

    @Test("a conversation that outgrows the cache moves to a larger one and is computed again")
    func growsTheCache() async throws {
        let model = try EngineFixtures.model()
        var prompts = PromptMaker(seed: 6, vocab: model.config.vocabSize)
        let generator = try Generator(model: model, cacheTokens: 16)
        let first = prompts.tokens(8)
        let turn1 = try generate(generator, first, maxTokens: 4)
        let second = first + turn1 + prompts.tokens(20)
        let turn2 = try generate(generator, second, maxTokens: 4)
        #expect(generator.reusedPromptTokens == 0)
        #expect(turn2 == (try await reference(model, second, maxTokens: 4)))
        let third = second + turn2 + prompts.tokens(2)
        let turn3 = try generate(generator, third, maxTokens: 4)
        #expect(generator.reusedPromptTokens == fullBlocks(second.count + turn2.count - 1))
        #expect(turn3 == (try await reference(model, third, maxTokens: 4)))
    }

    @Test("a prompt longer than the context fails and leaves what was computed usable")
    func contextOverflow() async throws {
        let model = try EngineFixtures.model()
        var prompts = PromptMaker(seed: 7, vocab: model.config.vocabSize)
        let generator = try Generator(model: model)
        let first = prompts.tokens(12)
        let turn1 = try generate(generator, first, maxTokens: 12)
        let tooLong = first + prompts.tokens(model.config.maxPositionEmbeddings)
        #expect(throws: EngineError.self) { try generate(generator, tooLong, maxTokens: 4) }
        let next = first + turn1 + prompts.tokens(3)
        let turn2 = try generate(generator, next, maxTokens: 4)
        #expect(generator.reusedPromptTokens == fullBlocks(first.count + turn1.count - 1))
        #expect(turn2 == (try await reference(model, next, maxTokens: 4)))
    }

    @Test("the demo model's MTP drafts: the same greedy tokens, and stopping from onToken keeps no token after it",
          arguments: [1, 3])
    func speculative(drafts: Int) async throws {
        let model = try EngineFixtures.demoModel()
        let prompt = Array(try #require(EngineFixtures.demoSequences().first).prefix(12))
        let generator = try Generator(model: model, speculativeDraftTokens: drafts)
        let tokens = try generate(generator, prompt, maxTokens: 12)
        #expect(tokens == (try await reference(model, prompt, maxTokens: 12)))
        #expect(generator.stats.acceptedDraftTokens > 0)

        // Verifying steps emit several tokens; those after the one onToken stopped at are dropped.
        for stop in 2...6 {
            var seen: [Int] = []
            let stopped = try generator.generate(prompt: prompt, maxTokens: 12, sampling: .greedy, stopTokens: []) { token in
                seen.append(token)
                return seen.count < stop
            }
            #expect(stopped.tokens == Array(tokens.prefix(stop)))
            #expect(seen == stopped.tokens)
        }
        // The stopped requests freed what they held: the next one runs as before.
        #expect(try generate(generator, prompt, maxTokens: 12) == tokens)
    }

    @Test("drafts from a checkpoint without an MTP layer are refused")
    func noMTPLayer() throws {
        #expect(throws: EngineConfigurationError.self) { try Generator(model: try EngineFixtures.model(), speculativeDraftTokens: 2) }
    }
}
