import Foundation

/// Byte-level BPE tokenizer for GLM-4 / GLM-4.5 and other byte-level BPE models.
///
/// Gives exactly the reference ids: for a tiktoken-format `tokenizer.model`, those of the
/// `tiktoken` package with GLM's regex and the added tokens of `tokenizer_config.json` as
/// specials; for a `tokenizer.json`, those of the `tokenizers` package with
/// `add_special_tokens=False`. Tested against both on a multilingual corpus
/// (Tests/Fixtures/tokenizer, made by Tools/tokenizer/make_fixtures.py).
///
/// ```swift
/// let tok = try Tokenizer.load(modelDirectory: dir)   // tokenizer.json, else tokenizer.model
/// let ids = tok.encode("[gMASK]<sop><|user|>\nHi")   // [151331, 151333, 151336, 198, 13041]
/// let text = tok.decode(ids, skipSpecialTokens: true) // "\nHi"
/// var stream = tok.makeStreamingDetokenizer()
/// for id in ids { print(stream.append(id), terminator: "") }  // never splits a character
/// print(stream.flush())
/// ```
///
/// API:
/// * `static func load(modelDirectory: URL) throws -> Tokenizer`; also
///   `load(tokenizerJSON:config:)` and `load(tiktokenModel:config:)`. Errors: `TokenizerError`.
/// * `func encode(_ text: String, allowSpecial: Bool = true) -> [Int]`: added tokens are matched
///   verbatim first (leftmost-longest), then the rest is normalized (tokenizer.json only),
///   pre-tokenized and BPE-merged. With `allowSpecial: false`, tokens flagged `special` are
///   encoded as ordinary text (HF `encode_special_tokens`); non-special added tokens such as
///   `<think>` are still matched. Never adds BOS/EOS: GLM's chat template writes `[gMASK]<sop>`.
/// * `func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String`: invalid UTF-8 is
///   replaced by U+FFFD; unknown ids are skipped. `decodeBytes` gives the raw bytes.
/// * `func makeStreamingDetokenizer(skipSpecialTokens:) -> StreamingDetokenizer`.
/// * `id(forToken:)`, `token(forId:)` (HF vocabulary spelling, `Ġ` = space, for both formats),
///   `tokenBytes(forId:)`, `vocabularySize`, `addedTokens`, `specialTokenIds`, `isSpecial(_:)`,
///   `eosToken`, `eosTokenId` (from tokenizer_config.json `eos_token`).
///
/// Limits (each throws `TokenizerError.unsupported` naming the component, except the last):
/// non-BPE models, char-level BPE, `byte_fallback`, dropout, added tokens with `single_word`,
/// normalizers other than NFC/NFD/NFKC/NFKD, pre-tokenizers other than Split/Digits/ByteLevel,
/// decoders other than ByteLevel, truncation/padding. Split regexes other than the GLM/Llama 3,
/// Qwen2 and GPT-2 patterns run on NSRegularExpression (ICU), whose syntax and Unicode tables
/// can differ from Oniguruma's on rare inputs.
///
/// Thread-safe: immutable after loading; each `encode` call keeps its own merge cache.
public final class Tokenizer: Sendable {
    public enum Format: Sendable { case tokenizerJSON, tiktoken, gguf }

    public let format: Format
    /// Added tokens (special or not), sorted by id.
    public let addedTokens: [AddedToken]
    /// Ids of added tokens flagged `special` (dropped by `decode(skipSpecialTokens: true)`).
    public let specialTokenIds: Set<Int>
    /// One more than the largest id (regular vocabulary and added tokens): 151365 for GLM-4.5.
    public let vocabularySize: Int
    /// `eos_token` of tokenizer_config.json, when there is one.
    public let eosToken: String?
    public let eosTokenId: Int?

    let bpe: BPEModel
    private let preTokenizer: PreTokenizer
    private let fastScanner: PatternScanner?
    private let normalizer: Normalizer?
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    /// Bytes an added token contributes to decoded text.
    private let addedBytes: ByteTokenTable
    /// Per id: 0 unknown, 1 vocabulary, 2 added, 3 added special.
    private let idKind: [UInt8]
    /// Keyed by UTF-8 bytes: Swift `String` equality is canonical equivalence, and "é" and
    /// "e\u{301}" are different tokens.
    private let addedByContent: [[UInt8]: Int]
    private let rawVocabStrings: [Int: String]
    private let rawVocabIds: [[UInt8]: Int]

    // MARK: - Loading

    /// Loads `tokenizer.json` (plus `tokenizer_config.json` for eos) when present, otherwise
    /// the tiktoken `tokenizer.model` plus `tokenizer_config.json` (added tokens, eos).
    public static func load(modelDirectory: URL) throws -> Tokenizer {
        let fm = FileManager.default
        let json = modelDirectory.appendingPathComponent("tokenizer.json")
        let model = modelDirectory.appendingPathComponent("tokenizer.model")
        let config = modelDirectory.appendingPathComponent("tokenizer_config.json")
        let configOrNil = fm.fileExists(atPath: config.path) ? config : nil
        if fm.fileExists(atPath: json.path) {
            return try load(tokenizerJSON: json, config: configOrNil)
        }
        if fm.fileExists(atPath: model.path) {
            return try load(tiktokenModel: model, config: configOrNil)
        }
        throw TokenizerError.noTokenizerFiles(directory: modelDirectory.path)
    }

    public static func load(tokenizerJSON: URL, config: URL? = nil) throws -> Tokenizer {
        Tokenizer(parts: try HFTokenizerJSON.load(tokenizerJSON, config: config), format: .tokenizerJSON)
    }

    public static func load(tiktokenModel: URL, config: URL? = nil) throws -> Tokenizer {
        Tokenizer(parts: try TiktokenLoader.load(model: tiktokenModel, config: config), format: .tiktoken)
    }

    init(parts: TokenizerParts, format: Format) {
        self.format = format
        bpe = parts.bpe
        preTokenizer = parts.preTokenizer
        fastScanner = parts.preTokenizer.fastScanner
        normalizer = parts.normalizer
        let added = parts.addedTokens.sorted { $0.id < $1.id }
        addedTokens = added
        rawMatcher = AddedTokenMatcher(tokens: added.filter { !$0.normalized })
        // HF matches `normalized` added tokens by their normalized content, in normalized text.
        normalizedMatcher = AddedTokenMatcher(tokens: added.filter(\.normalized).map { t in
            guard let n = parts.normalizer else { return t }
            return AddedToken(id: t.id, content: n.apply(t.content), special: t.special,
                              lstrip: t.lstrip, rstrip: t.rstrip, normalized: true)
        })
        specialTokenIds = Set(added.filter(\.special).map(\.id))
        rawVocabStrings = parts.rawVocabStrings
        rawVocabIds = Dictionary(parts.rawVocabStrings.map { (Array($1.utf8), $0) }, uniquingKeysWith: min)

        let limit = max(parts.bpe.vocab.idLimit, (added.map(\.id).max() ?? -1) + 1)
        vocabularySize = limit
        var kind = [UInt8](repeating: 0, count: limit)
        for id in 0..<parts.bpe.vocab.idLimit where parts.bpe.vocab.bytes(of: id) != nil { kind[id] = 1 }
        var table = ByteTokenTable(capacity: added.count)
        var byContent: [[UInt8]: Int] = [:]
        for t in added {
            kind[t.id] = t.special ? 3 : 2
            // HF decodes (and reports) a normalized added token by its normalized content.
            let content = t.normalized ? parts.normalizer?.apply(t.content) ?? t.content : t.content
            let bytes = parts.addedTokensUseByteLevelDecoder
                ? ByteLevel.decoderBytes(forTokenString: content) : Array(content.utf8)
            table.add(id: t.id, bytes: bytes, indexed: false)
            if byContent[Array(t.content.utf8)] == nil { byContent[Array(t.content.utf8)] = t.id }
        }
        idKind = kind
        addedBytes = table
        addedByContent = byContent
        eosToken = parts.eosToken
        var eosId: Int?
        if let eos = parts.eosToken {
            eosId = byContent[Array(eos.utf8)] ?? ByteLevel.bytes(fromVocabString: eos).map { Int(parts.bpe.vocab.id(for: $0)) }
            if eosId == -1 { eosId = nil }
        }
        eosTokenId = eosId
    }

    // MARK: - Encoding

    public func encode(_ text: String, allowSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3 + 4)
        var cache = PieceCache()
        var text = text
        text.withUTF8 { buf in
            let whole = 0..<buf.count
            if rawMatcher.isEmpty {
                encodeText(buf, whole, allowSpecial, &out, &cache)
                return
            }
            for segment in rawMatcher.segments(buf, whole, allowSpecial: allowSpecial) {
                switch segment {
                case .token(let id): out.append(id)
                case .text(let r): encodeText(buf, r, allowSpecial, &out, &cache)
                }
            }
        }
        return out
    }

    /// Text between raw added tokens: normalize, match normalized added tokens, encode the rest.
    private func encodeText(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ allowSpecial: Bool,
                            _ out: inout [Int], _ cache: inout PieceCache) {
        func matchNormalized(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
            if normalizedMatcher.isEmpty { return encodePlain(b, range, &out, &cache) }
            for segment in normalizedMatcher.segments(b, range, allowSpecial: allowSpecial) {
                switch segment {
                case .token(let id): out.append(id)
                case .text(let r2): encodePlain(b, r2, &out, &cache)
                }
            }
        }
        guard let normalizer else { return matchNormalized(buf, r) }
        let normalized = Array(normalizer.apply(String(decoding: UnsafeBufferPointer(rebasing: buf[r]), as: UTF8.self)).utf8)
        normalized.withUnsafeBufferPointer { matchNormalized($0, 0..<$0.count) }
    }

    /// Pre-tokenizes and BPE-encodes text that contains no added tokens.
    private func encodePlain(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>,
                             _ out: inout [Int], _ cache: inout PieceCache) {
        if r.isEmpty { return }
        if let scanner = fastScanner {
            let p = buf.baseAddress!
            let cls = UnicodeClasses.table.pointer
            var i = r.lowerBound
            while i < r.upperBound {
                let e = scanner.pieceEnd(p, i, r.upperBound, cls)
                bpe.encode(UnsafeBufferPointer(start: p + i, count: e - i), into: &out, cache: &cache)
                i = e
            }
            return
        }
        let (buffer, pieces) = preTokenizer.split(Array(buf[r]))
        buffer.withUnsafeBufferPointer { b in
            for piece in pieces {
                bpe.encode(UnsafeBufferPointer(rebasing: b[piece]), into: &out, cache: &cache)
            }
        }
    }

    // MARK: - Decoding

    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    /// The raw bytes of the ids (which need not be valid UTF-8 on their own).
    public func decodeBytes(_ ids: [Int], skipSpecialTokens: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, skipSpecialTokens: skipSpecialTokens, to: &out) }
        return out
    }

    @inline(__always)
    func appendBytes(of id: Int, skipSpecialTokens: Bool, to out: inout [UInt8]) {
        guard id >= 0, id < idKind.count else { return }
        switch idKind[id] {
        case 1: _ = bpe.vocab.appendBytes(of: id, to: &out)
        case 2: _ = addedBytes.appendBytes(of: id, to: &out)
        case 3: if !skipSpecialTokens { _ = addedBytes.appendBytes(of: id, to: &out) }
        default: break
        }
    }

    public func makeStreamingDetokenizer(skipSpecialTokens: Bool = false) -> StreamingDetokenizer {
        StreamingDetokenizer(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }

    // MARK: - Vocabulary

    public func isSpecial(_ id: Int) -> Bool { specialTokenIds.contains(id) }

    /// The id of an added token's content or of a vocabulary string in HF's byte-level spelling.
    public func id(forToken token: String) -> Int? {
        if let id = addedByContent[Array(token.utf8)] { return id }
        if let bytes = ByteLevel.bytes(fromVocabString: token) {
            let id = bpe.vocab.id(for: bytes)
            if id >= 0 { return Int(id) }
        }
        return rawVocabIds[Array(token.utf8)]
    }

    /// An added token's content, or a vocabulary entry in HF's byte-level spelling.
    public func token(forId id: Int) -> String? {
        guard id >= 0, id < idKind.count else { return nil }
        switch idKind[id] {
        case 1:
            if let raw = rawVocabStrings[id] { return raw }
            return bpe.vocab.bytes(of: id).map { ByteLevel.vocabString(fromBytes: $0) }
        case 2, 3:
            guard let t = addedTokens.first(where: { $0.id == id }) else { return nil }
            return t.normalized ? normalizer?.apply(t.content) ?? t.content : t.content
        default:
            return nil
        }
    }

    /// The bytes the id contributes to decoded text (nil for unknown ids).
    public func tokenBytes(forId id: Int) -> [UInt8]? {
        guard id >= 0, id < idKind.count, idKind[id] != 0 else { return nil }
        var out: [UInt8] = []
        appendBytes(of: id, skipSpecialTokens: false, to: &out)
        return out
    }
}
