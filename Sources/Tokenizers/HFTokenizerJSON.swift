import Foundation
import OrderedJSON

/// Loads a Hugging Face `tokenizer.json` whose model is byte-level BPE.
///
/// Supported: model `BPE` (vocab + merges as "a b" strings or [a, b] pairs, `ignore_merges`,
/// `unk_token`/`fuse_unk`); normalizer none, `NFC`/`NFD`/`NFKC`/`NFKD`, `Sequence`; pre-tokenizers
/// `Split` (Regex or String pattern, every behaviour, `invert`), `Digits`, `ByteLevel`,
/// `Sequence`, where `ByteLevel` must come last (it is what makes the model byte-level);
/// decoder `ByteLevel` (alone or in a `Sequence`); `added_tokens` with `special`, `lstrip`,
/// `rstrip`, `normalized`. The post-processor is not applied: `encode` equals HF
/// `encode(text, add_special_tokens=False)`. Anything else throws `TokenizerError.unsupported`
/// naming the component, rather than tokenizing differently.
enum HFTokenizerJSON {
    static func load(_ url: URL, config: URL?) throws -> TokenizerParts {
        let file = url.path
        let json = try JSONValue.loadObject(url)
        for key in ["truncation", "padding"] {
            if let v = json[key], !v.isNull { throw TokenizerError.unsupported(component: key, file: file) }
        }
        guard let model = json["model"], model.objectValue != nil else {
            throw TokenizerError.malformed(file: file, reason: "missing model")
        }
        let (bpe, raw) = try loadBPE(model, file: file)
        var parts = TokenizerParts(
            bpe: bpe, rawVocabStrings: raw,
            normalizer: try normalizer(json["normalizer"], file: file),
            preTokenizer: try preTokenizer(json["pre_tokenizer"], file: file),
            addedTokensUseByteLevelDecoder: true)
        try checkDecoder(json["decoder"], file: file)
        parts.addedTokens = try addedTokens(json["added_tokens"], file: file)
        if let config {
            parts.eosToken = try TokenizerConfig.load(config, addedTokens: false).eosToken
        }
        return parts
    }

    // MARK: - Model

    private static func loadBPE(_ model: JSONValue, file: String) throws -> (BPEModel, [Int: String]) {
        let type = model["type"]?.stringValue ?? "BPE"  // very old files have no type
        guard type == "BPE" else { throw TokenizerError.unsupported(component: "model.\(type)", file: file) }
        if let d = model["dropout"], !d.isNull, let p = d.doubleValue, p > 0 {
            throw TokenizerError.unsupported(component: "model.dropout", file: file)
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key]?.stringValue, !v.isEmpty {
                throw TokenizerError.unsupported(component: "model.\(key)", file: file)
            }
        }
        if model["byte_fallback"]?.boolValue == true {
            throw TokenizerError.unsupported(component: "model.byte_fallback", file: file)
        }
        guard let vocabJSON = model["vocab"]?.objectValue else {
            throw TokenizerError.malformed(file: file, reason: "model.vocab is not an object")
        }
        var builder = BPEBuilder(file: file, capacity: vocabJSON.count)
        for (token, value) in vocabJSON.entries {
            try builder.add(token, id: value.intValue ?? -1, field: "model.vocab[\(token)]")
        }
        guard let mergesJSON = model["merges"]?.arrayValue else {
            throw TokenizerError.malformed(file: file, reason: "model.merges is not an array")
        }
        let pairs: [(Substring, Substring)] = try mergesJSON.enumerated().map { rank, m in
            if let s = m.stringValue, let pair = BPEBuilder.halves(s) { return pair }
            if let pair = m.arrayValue, pair.count == 2, let x = pair[0].stringValue, let y = pair[1].stringValue {
                return (Substring(x), Substring(y))
            }
            throw TokenizerError.malformed(file: file, reason: "model.merges[\(rank)]" + (m.stringValue.map { ": \($0)" } ?? ""))
        }
        let merges = try builder.merges(pairs) { "model.merges[\($0)]" }
        var unkId: Int32 = -1
        if let unk = model["unk_token"]?.stringValue {
            unkId = builder.id(of: Substring(unk))
            if unkId < 0 { throw TokenizerError.malformed(file: file, reason: "model.unk_token \(unk) not in vocab") }
        }
        let bpe = BPEModel(vocab: builder.vocab, merges: merges, wholePieceFirst: model["ignore_merges"]?.boolValue ?? false,
                           unkId: unkId, fuseUnk: model["fuse_unk"]?.boolValue ?? false)
        return (bpe, builder.raw)
    }

    // MARK: - Pipeline components

    private static func normalizer(_ json: JSONValue?, file: String) throws -> Normalizer? {
        guard let json, !json.isNull else { return nil }
        let type = json["type"]?.stringValue ?? "?"
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Sequence":
            guard let list = json["normalizers"]?.arrayValue else {
                throw TokenizerError.malformed(file: file, reason: "normalizer.Sequence without normalizers")
            }
            let inner = try list.map { try normalizer($0, file: file) }.compactMap { $0 }
            return inner.isEmpty ? nil : .sequence(inner)
        default:
            throw TokenizerError.unsupported(component: "normalizer.\(type)", file: file)
        }
    }

    private static func preTokenizer(_ json: JSONValue?, file: String) throws -> PreTokenizer {
        var stages: [PreTokenizerStage] = []
        try collectStages(json, into: &stages, file: file)
        // Byte-level BPE needs the byte mapping, and it must see the final pieces.
        guard case .byteLevel = stages.last else {
            throw TokenizerError.unsupported(
                component: stages.contains(where: { if case .byteLevel = $0 { return true }; return false })
                    ? "pre_tokenizer.ByteLevel before other pre-tokenizers"
                    : "model.BPE without a ByteLevel pre_tokenizer (character-level BPE)",
                file: file)
        }
        return PreTokenizer(stages: stages)
    }

    private static func collectStages(_ json: JSONValue?, into stages: inout [PreTokenizerStage], file: String) throws {
        guard let json, !json.isNull else { return }
        let type = json["type"]?.stringValue ?? "?"
        switch type {
        case "Sequence":
            guard let list = json["pretokenizers"]?.arrayValue else {
                throw TokenizerError.malformed(file: file, reason: "pre_tokenizer.Sequence without pretokenizers")
            }
            for p in list { try collectStages(p, into: &stages, file: file) }
        case "ByteLevel":
            stages.append(.byteLevel(addPrefixSpace: json["add_prefix_space"]?.boolValue ?? true,
                                     useRegex: json["use_regex"]?.boolValue ?? true))
        case "Digits":
            let individual = json["individual_digits"]?.boolValue ?? false
            stages.append(.split(.numeric, individual ? .isolated : .contiguous, invert: false))
        case "Split":
            guard let behaviorName = json["behavior"]?.stringValue else {
                throw TokenizerError.malformed(file: file, reason: "pre_tokenizer.Split without behavior")
            }
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupported(component: "pre_tokenizer.Split.behavior.\(behaviorName)", file: file)
            }
            let invert = json["invert"]?.boolValue ?? false
            if let literal = json["pattern"]?["String"]?.stringValue {
                stages.append(.split(.literal(Array(literal.utf8)), behavior, invert: invert))
            } else if let pattern = json["pattern"]?["Regex"]?.stringValue {
                if let scanner = PatternScanner.forPattern(pattern) {
                    stages.append(.split(.scanner(scanner), behavior, invert: invert))
                } else {
                    // Other patterns: ICU via NSRegularExpression. Its \p{..} tables follow ICU's
                    // Unicode version, so rare new code points may split differently.
                    guard let regex = try? NSRegularExpression(pattern: pattern) else {
                        throw TokenizerError.unsupported(component: "pre_tokenizer.Split regex \(pattern)", file: file)
                    }
                    stages.append(.split(.regex(regex), behavior, invert: invert))
                }
            } else {
                throw TokenizerError.malformed(file: file, reason: "pre_tokenizer.Split without pattern")
            }
        default:
            throw TokenizerError.unsupported(component: "pre_tokenizer.\(type)", file: file)
        }
    }

    private static func checkDecoder(_ json: JSONValue?, file: String) throws {
        guard let json, !json.isNull else {
            throw TokenizerError.unsupported(component: "decoder: null (byte-level BPE needs ByteLevel)", file: file)
        }
        let type = json["type"]?.stringValue ?? "?"
        switch type {
        case "ByteLevel": return
        case "Sequence":
            guard let list = json["decoders"]?.arrayValue, !list.isEmpty else {
                throw TokenizerError.malformed(file: file, reason: "decoder.Sequence without decoders")
            }
            for d in list { try checkDecoder(d, file: file) }
        default:
            throw TokenizerError.unsupported(component: "decoder.\(type)", file: file)
        }
    }

    private static func addedTokens(_ json: JSONValue?, file: String) throws -> [AddedToken] {
        guard let json, !json.isNull else { return [] }
        guard let list = json.arrayValue else {
            throw TokenizerError.malformed(file: file, reason: "added_tokens is not an array")
        }
        return try list.enumerated().map { index, t in
            guard let id = t["id"]?.intValue, id >= 0, id < maxTokenId, let content = t["content"]?.stringValue,
                  !content.isEmpty else {
                throw TokenizerError.malformed(file: file, reason: "added_tokens[\(index)]")
            }
            if t["single_word"]?.boolValue == true {
                throw TokenizerError.unsupported(component: "added_tokens[\(index)].single_word", file: file)
            }
            return AddedToken(id: id, content: content, special: t["special"]?.boolValue ?? false,
                              lstrip: t["lstrip"]?.boolValue ?? false, rstrip: t["rstrip"]?.boolValue ?? false,
                              normalized: t["normalized"]?.boolValue ?? false)
        }
    }
}

extension JSONValue {
    /// Reads a JSON file that must hold an object, with errors naming the file.
    static func loadObject(_ url: URL) throws -> JSONValue {
        let file = url.path
        let json: JSONValue
        do {
            json = try JSONValue.parse(data: try Data(contentsOf: url))
        } catch let e as JSONParseError {
            throw TokenizerError.malformed(file: file, reason: "JSON: \(e.message) at byte \(e.offset)")
        } catch {
            throw TokenizerError.unreadable(file: file, reason: error.localizedDescription)
        }
        guard json.objectValue != nil else { throw TokenizerError.malformed(file: file, reason: "not a JSON object") }
        return json
    }
}
