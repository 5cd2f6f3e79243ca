import Foundation
import OrderedJSON
import Templates
import Tokenizers
import Weights

/// The tokenizer and chat template of a model location (what `ModelLocator.resolve` returns): a
/// Hugging Face checkpoint folder's files, or the `tokenizer.*` metadata of a GGUF model.
public enum ModelAssets {
    /// The GGUF model at `location`, or nil for a checkpoint folder.
    public static func gguf(at location: URL) throws -> GGUFModelFiles? {
        GGUFModelFiles.isGGUF(location) ? try GGUFModelFiles(url: location) : nil
    }

    /// The tokenizer; `gguf` saves reopening a GGUF model the caller already has.
    public static func tokenizer(at location: URL, gguf: GGUFModelFiles? = nil) throws -> Tokenizer {
        guard let gguf = try gguf ?? self.gguf(at: location) else { return try Tokenizer.load(modelDirectory: location) }
        return try Tokenizer.load(gguf: vocabulary(gguf))
    }

    /// The chat template: `overrideFile`, else the checkpoint's (see `ChatTemplateLoader`) or the
    /// GGUF's `tokenizer.chat_template`. `ChatTemplateLoaderError.isNotFound` when there is none.
    public static func chatTemplate(at location: URL, overrideFile: URL? = nil, gguf: GGUFModelFiles? = nil) throws -> ChatTemplate {
        guard let gguf = try gguf ?? self.gguf(at: location) else {
            return try ChatTemplateLoader.load(modelDirectory: location, overrideFile: overrideFile)
        }
        let (source, origin) = try chatTemplateSource(gguf, overrideFile: overrideFile)
        var variables: [String: JSONValue] = [:]
        if let eos = gguf["tokenizer.ggml.eos_token_id"]?.int, let tokens = gguf["tokenizer.ggml.tokens"]?.array,
           eos >= 0, eos < tokens.count, let text = tokens[eos].string {
            variables["eos_token"] = .string(text)
        }
        return try ChatTemplateLoader.compile(source: source, origin: origin, defaultVariables: variables)
    }

    /// The chat template's text and where it came from.
    public static func chatTemplateSource(at location: URL, overrideFile: URL? = nil) throws -> String {
        guard let gguf = try gguf(at: location) else {
            return try ChatTemplateLoader.loadSource(modelDirectory: location, overrideFile: overrideFile)
        }
        return try chatTemplateSource(gguf, overrideFile: overrideFile).source
    }

    private static func chatTemplateSource(_ gguf: GGUFModelFiles, overrideFile: URL?) throws -> (source: String, origin: String) {
        if let overrideFile { return (try ChatTemplateLoader.readText(overrideFile), overrideFile.path) }
        guard let source = gguf["tokenizer.chat_template"]?.string else {
            throw ChatTemplateLoaderError("no chat template in \(gguf.path) (no tokenizer.chat_template key)", isNotFound: true)
        }
        return (source, "\(gguf.path) tokenizer.chat_template")
    }

    /// The `tokenizer.ggml.*` keys, type-checked.
    public static func vocabulary(_ gguf: GGUFModelFiles) throws -> GGUFVocabulary {
        let file = gguf.path
        func strings(_ key: String) throws -> [String] {
            guard let value = gguf[key] else { throw TokenizerError.malformed(file: file, reason: "no \(key) key") }
            guard let items = value.array, let out = Optional(items.compactMap(\.string)), out.count == items.count else {
                throw TokenizerError.malformed(file: file, reason: "\(key) is \(value.typeName), expected an array of strings")
            }
            return out
        }
        var types: [Int]?
        if let value = gguf["tokenizer.ggml.token_type"] {
            guard let items = value.array, let ints = Optional(items.compactMap(\.int)), ints.count == items.count else {
                throw TokenizerError.malformed(file: file, reason: "tokenizer.ggml.token_type is \(value.typeName), expected an array of integers")
            }
            types = ints
        }
        guard let model = gguf["tokenizer.ggml.model"]?.string else {
            throw TokenizerError.malformed(file: file, reason: "no tokenizer.ggml.model string: the file has no tokenizer")
        }
        return GGUFVocabulary(file: file, model: model, pre: gguf["tokenizer.ggml.pre"]?.string,
                              tokens: try strings("tokenizer.ggml.tokens"), tokenTypes: types,
                              merges: gguf["tokenizer.ggml.merges"] == nil ? [] : try strings("tokenizer.ggml.merges"),
                              eosTokenId: gguf["tokenizer.ggml.eos_token_id"]?.int)
    }
}
