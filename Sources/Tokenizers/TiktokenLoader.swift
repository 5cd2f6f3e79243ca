import Foundation
import OrderedJSON

/// Ids above this are rejected as malformed: tables are indexed by id, and no real vocabulary
/// comes near it.
let maxTokenId = 1 << 24

/// Everything a `Tokenizer` is made of, as produced by either loader.
struct TokenizerParts: Sendable {
    var bpe: BPEModel
    /// HF vocabulary strings that are not byte-level spellings, by id (decoded as their UTF-8).
    var rawVocabStrings: [Int: String] = [:]
    var addedTokens: [AddedToken] = []
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer
    var eosToken: String?
    /// HF passes added tokens through the ByteLevel decoder (so a non-ASCII added token decodes
    /// through the byte map); tiktoken decodes a special token as its UTF-8.
    var addedTokensUseByteLevelDecoder: Bool
}

/// Loads the tiktoken rank file that GLM-4 releases ship as `tokenizer.model` (one
/// `base64(token bytes) rank` line per token; rank = id = merge priority) and, from
/// `tokenizer_config.json`, the added tokens and the eos token. Pre-tokenization is GLM-4's regex
/// (`tokenization_chatglm.py`), the only one tiktoken-format GLM files are used with.
enum TiktokenLoader {
    static func load(model: URL, config: URL?) throws -> TokenizerParts {
        let file = model.path
        let data: Data
        do { data = try Data(contentsOf: model) } catch {
            throw TokenizerError.unreadable(file: file, reason: error.localizedDescription)
        }
        let vocab = try parseRanks(data, file: file)
        var merges = PairTable(capacity: vocab.count * 3)
        // tiktoken merges two adjacent parts when their concatenation is a token, at that token's
        // rank: enumerate every split of every token into two tokens.
        for id in 0..<vocab.idLimit {
            guard let bytes = vocab.bytes(of: id), bytes.count >= 2 else { continue }
            bytes.withUnsafeBufferPointer { b in
                for k in 1..<b.count {
                    let left = vocab.id(for: UnsafeBufferPointer(rebasing: b[0..<k]))
                    if left < 0 { continue }
                    let right = vocab.id(for: UnsafeBufferPointer(rebasing: b[k...]))
                    if right < 0 { continue }
                    merges.add(left: left, right: right, rank: UInt32(id), merged: Int32(id))
                }
            }
        }
        var parts = TokenizerParts(
            bpe: BPEModel(vocab: vocab, merges: merges, wholePieceFirst: true),
            preTokenizer: PreTokenizer(stages: [.split(.scanner(.glm4), .isolated, invert: false)]),
            addedTokensUseByteLevelDecoder: false)
        if let config {
            let cfg = try TokenizerConfig.load(config)
            parts.addedTokens = cfg.addedTokens
            parts.eosToken = cfg.eosToken
        }
        return parts
    }

    /// Parses the rank file. Ranks are ids; they need not be contiguous, but must be unique.
    static func parseRanks(_ data: Data, file: String) throws -> ByteTokenTable {
        var table = ByteTokenTable(capacity: max(16, data.count / 16))
        try data.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            var i = 0
            var line = 1
            var seenIds = Set<Int>()
            while i < p.count {
                var e = i
                while e < p.count, p[e] != 0x0A { e += 1 }
                var lineEnd = e
                if lineEnd > i, p[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                if lineEnd > i {
                    guard let space = (i..<lineEnd).first(where: { p[$0] == 0x20 }) else {
                        throw TokenizerError.malformed(file: file, reason: "line \(line): expected `base64 rank` (is this a SentencePiece model? only tiktoken rank files are supported)")
                    }
                    guard let bytes = base64Decode(UnsafeBufferPointer(rebasing: p[i..<space])) else {
                        throw TokenizerError.malformed(file: file, reason: "line \(line): invalid base64")
                    }
                    var rank = 0
                    var digits = 0
                    for k in (space + 1)..<lineEnd {
                        let c = p[k]
                        guard c >= 0x30, c <= 0x39, digits < 10 else {
                            throw TokenizerError.malformed(file: file, reason: "line \(line): invalid rank")
                        }
                        rank = rank * 10 + Int(c - 0x30)
                        digits += 1
                    }
                    guard digits > 0, rank < maxTokenId else {
                        throw TokenizerError.malformed(file: file, reason: "line \(line): invalid rank")
                    }
                    guard !bytes.isEmpty, seenIds.insert(rank).inserted, table.add(id: rank, bytes: bytes) else {
                        throw TokenizerError.malformed(file: file, reason: "line \(line): duplicate or empty token")
                    }
                }
                i = e + 1
                line += 1
            }
        }
        if table.count == 0 { throw TokenizerError.malformed(file: file, reason: "no tokens") }
        return table
    }

    private static let base64Values: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            t[Int(c)] = Int8(i)
        }
        return t
    }()

    /// Standard base64 with optional `=` padding; nil on any invalid character or length.
    static func base64Decode(_ s: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var n = s.count
        while n > 0, s[n - 1] == UInt8(ascii: "=") { n -= 1 }
        if s.count - n > 2 || n % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(n * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for k in 0..<n {
            let v = base64Values[Int(s[k])]
            if v < 0 { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}

/// The parts of HF `tokenizer_config.json` a tokenizer needs.
struct TokenizerConfig {
    var addedTokens: [AddedToken] = []
    var eosToken: String?

    /// `addedTokens: false` reads only what a tokenizer.json does not already say (eos).
    static func load(_ url: URL, addedTokens readAdded: Bool = true) throws -> TokenizerConfig {
        let file = url.path
        let json = try JSONValue.loadObject(url)
        var cfg = TokenizerConfig()
        // eos_token is either a string or an AddedToken-like object.
        if let eos = json["eos_token"] {
            cfg.eosToken = eos.stringValue ?? eos["content"]?.stringValue
        }
        if readAdded, let decoder = json["added_tokens_decoder"] {
            guard let members = decoder.objectValue else {
                throw TokenizerError.malformed(file: file, reason: "added_tokens_decoder is not an object")
            }
            for (key, entry) in members.entries {
                guard let id = Int(key), id >= 0, id < maxTokenId, let content = entry["content"]?.stringValue, !content.isEmpty else {
                    throw TokenizerError.malformed(file: file, reason: "added_tokens_decoder entry \(key)")
                }
                if entry["single_word"]?.boolValue == true {
                    throw TokenizerError.unsupported(component: "added_tokens_decoder.\(key).single_word", file: file)
                }
                cfg.addedTokens.append(AddedToken(
                    id: id, content: content, special: entry["special"]?.boolValue ?? false,
                    lstrip: entry["lstrip"]?.boolValue ?? false, rstrip: entry["rstrip"]?.boolValue ?? false,
                    normalized: entry["normalized"]?.boolValue ?? false))
            }
            cfg.addedTokens.sort { $0.id < $1.id }
        }
        return cfg
    }
}
