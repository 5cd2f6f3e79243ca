/// The tokenizer a GGUF file carries in its `tokenizer.ggml.*` keys (../shared/spec/gguf.md §3),
/// read out of the file by the caller: byte-level BPE ("gpt2") with GLM-4's pre-tokenizer.
public struct GGUFVocabulary: Sendable {
    /// ggml's token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The GGUF file, for messages.
    public var file: String
    /// `tokenizer.ggml.model`.
    public var model: String
    /// `tokenizer.ggml.pre`.
    public var pre: String?
    /// `tokenizer.ggml.tokens`: id → token string (byte-level spelling for normal tokens, text
    /// for added ones).
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`, one per token (nil: all normal).
    public var tokenTypes: [Int]?
    /// `tokenizer.ggml.merges`, "left right".
    public var merges: [String]
    public var eosTokenId: Int?

    public init(file: String, model: String, pre: String?, tokens: [String], tokenTypes: [Int]?, merges: [String],
                eosTokenId: Int?) {
        self.file = file
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.eosTokenId = eosTokenId
    }

    /// Pre-tokenizer names llama.cpp reads as GLM-4's (`LLAMA_VOCAB_PRE_TYPE_CHATGLM4`).
    public static let glm4PreTokenizers = ["glm4", "chatglm-bpe"]
}

extension Tokenizer {
    /// The tokenizer of a GGUF file. Normal tokens form the BPE vocabulary; control and
    /// user-defined tokens are added tokens (control ones special), matched in text as
    /// tokenizer.json's added tokens are; unused ones (`[PAD…]` fillers) are neither. Encoding
    /// equals the Hugging Face tokenizer the file was converted from. One difference is
    /// unavoidable: GGUF marks every `<|…|>` token control, so the few that Hugging Face does not
    /// call special (GLM-4.5's `<|begin_of_box|>`, `<|image|>`, …) are special here.
    public static func load(gguf: GGUFVocabulary) throws -> Tokenizer {
        let file = gguf.file
        guard gguf.model == "gpt2" else {
            throw TokenizerError.unsupported(component: "tokenizer.ggml.model \"\(gguf.model)\" (only gpt2 byte-level BPE is)", file: file)
        }
        guard let pre = gguf.pre, GGUFVocabulary.glm4PreTokenizers.contains(pre) else {
            throw TokenizerError.unsupported(
                component: "tokenizer.ggml.pre \"\(gguf.pre ?? "(absent)")\" (GLM-4's pre-tokenizer \"glm4\" is supported)", file: file)
        }
        if let types = gguf.tokenTypes, types.count != gguf.tokens.count {
            throw TokenizerError.malformed(file: file, reason: "tokenizer.ggml.token_type has \(types.count) entries for \(gguf.tokens.count) tokens")
        }
        guard gguf.tokens.count <= maxTokenId else {
            throw TokenizerError.malformed(file: file, reason: "tokenizer.ggml.tokens has \(gguf.tokens.count) tokens, more than \(maxTokenId)")
        }
        var builder = BPEBuilder(file: file, capacity: gguf.tokens.count)
        var added: [AddedToken] = []
        for (id, token) in gguf.tokens.enumerated() {
            let raw = gguf.tokenTypes?[id] ?? 1
            guard let type = GGUFVocabulary.TokenType(rawValue: raw) else {
                throw TokenizerError.malformed(file: file, reason: "tokenizer.ggml.token_type[\(id)] is \(raw); ggml defines 1 to 6")
            }
            switch type {
            case .normal, .unknown, .byte: try builder.add(token, id: id, field: "tokenizer.ggml.tokens[\(id)]")
            case .control, .userDefined: added.append(AddedToken(id: id, content: token, special: type == .control))
            case .unused: break
            }
        }
        let pairs = try gguf.merges.enumerated().map { rank, merge in
            guard let pair = BPEBuilder.halves(merge) else {
                throw TokenizerError.malformed(file: file, reason: "tokenizer.ggml.merges[\(rank)]: \(merge)")
            }
            return pair
        }
        let merges = try builder.merges(pairs) { "tokenizer.ggml.merges[\($0)]" }
        var parts = TokenizerParts(
            bpe: BPEModel(vocab: builder.vocab, merges: merges, wholePieceFirst: true), rawVocabStrings: builder.raw,
            preTokenizer: PreTokenizer(stages: [.split(.scanner(.glm4), .isolated, invert: false),
                                                .byteLevel(addPrefixSpace: false, useRegex: false)]),
            addedTokensUseByteLevelDecoder: false)
        parts.addedTokens = added
        if let eos = gguf.eosTokenId, eos >= 0, eos < gguf.tokens.count { parts.eosToken = gguf.tokens[eos] }
        return Tokenizer(parts: parts, format: .gguf)
    }
}
