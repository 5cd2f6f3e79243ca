import ArgumentParser
import Engine
import Foundation
import Sampling
import Server
import Tokenizers

/// Sampling flags shared by generating commands.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(name: .customLong("top-p"), help: "Nucleus sampling: keep the most likely tokens up to this total probability.")
    var topP: Float = 1

    @Option(name: .customLong("top-k"), help: "Keep only the k most likely tokens (0: all).")
    var topK: Int = 0

    @Option(name: .customLong("min-p"), help: "Drop tokens less likely than min-p × the most likely one.")
    var minP: Float = 0

    @Option(help: "Random seed; the same seed gives the same tokens.")
    var seed: UInt64?

    func validate() throws {
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be ≥ 0, got \(temperature)") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0, got \(topK)") }
        guard minP >= 0, minP <= 1 else { throw ValidationError("--min-p must be in [0, 1], got \(minP)") }
    }

    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP, seed: seed ?? 0)
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate tokens after a prompt and print their ids."
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var speculative: SpeculativeOptions

    @Option(help: "The prompt as text, encoded with the model folder's tokenizer (no chat template).")
    var prompt: String?

    @Option(name: .customLong("prompt-tokens"), help: "The prompt as comma-separated token ids.")
    var promptTokens: String?

    @Option(name: .customLong("max-tokens"), help: "Stop after this many generated tokens.")
    var maxTokens: Int

    func validate() throws {
        guard (prompt == nil) != (promptTokens == nil) else {
            throw ValidationError("give the prompt with exactly one of --prompt TEXT or --prompt-tokens IDS")
        }
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive, got \(maxTokens)") }
    }

    /// Prints the generated ids on the first line and, when the model folder has a tokenizer,
    /// the generated text after it; with speculative decoding, how many drafts were kept, on stderr.
    func run() throws {
        let directory = try model.directory()
        let glm = try model.loadModel(from: directory)
        let hasTokenizer = glm.checkpoint.gguf != nil || ["tokenizer.json", "tokenizer.model"].contains {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
        // A GGUF's tokenizer comes from the file the model already opened.
        let tokenizer = prompt != nil || hasTokenizer ? try ModelAssets.tokenizer(at: directory, gguf: glm.checkpoint.gguf) : nil
        let ids = try prompt.map { tokenizer!.encode($0) } ?? parseTokenList(promptTokens ?? "", option: "--prompt-tokens")
        for note in speculative.notes { printError("note: \(note)") }
        let drafts = SpeculativeOptions.drafts(try speculative.draftTokens, for: glm) { printError($0) }
        let generator = try Generator(model: glm, speculativeDraftTokens: drafts)
        let result = try generator.generate(prompt: ids, maxTokens: maxTokens, sampling: sampling.parameters)
        print(result.tokens.map(String.init).joined(separator: ","))
        if let tokenizer { print(tokenizer.decode(result.tokens, skipSpecialTokens: true)) }
        let stats = generator.stats
        if stats.draftRounds > 0 {
            printError(String(format: "MTP drafts kept: %d of %d (%.1f%%), %.2f tokens per verifying step",
                              stats.acceptedDraftTokens, stats.draftTokens, 100 * stats.draftAcceptanceRate, stats.acceptLength))
        }
    }
}
