/// Turns a stream of token ids into text deltas without ever splitting a UTF-8 character.
///
/// Byte-level tokens often end in the middle of a character (one CJK character or emoji can
/// span two or three tokens). The detokenizer keeps the bytes of an unfinished character until
/// it is complete, and emits everything before it. Bytes that can never become valid UTF-8 are
/// emitted as U+FFFD right away, exactly where `decode` would put them, so the concatenated
/// deltas plus `flush()` always equal `decode(ids)` of the same ids.
///
/// ```swift
/// var stream = tokenizer.makeStreamingDetokenizer(skipSpecialTokens: true)
/// for id in generated { send(stream.append(id)) }
/// send(stream.flush())
/// ```
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    /// Bytes of an unfinished character (at most 3).
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id and returns the text that is now complete (possibly empty).
    public mutating func append(_ id: Int) -> String {
        tokenizer.appendBytes(of: id, skipSpecialTokens: skipSpecialTokens, to: &pending)
        return drain()
    }

    /// Adds several ids; returns the completed text.
    public mutating func append(contentsOf ids: [Int]) -> String {
        for id in ids { tokenizer.appendBytes(of: id, skipSpecialTokens: skipSpecialTokens, to: &pending) }
        return drain()
    }

    /// Ends the stream: an unfinished character becomes U+FFFD, as in `decode`.
    public mutating func flush() -> String {
        defer { pending.removeAll(keepingCapacity: true) }
        return String(decoding: pending, as: UTF8.self)
    }

    /// True when bytes of an unfinished character are waiting.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    private mutating func drain() -> String {
        let keep = StreamingDetokenizer.incompleteSuffixLength(pending)
        if keep == pending.count { return "" }
        let text = String(decoding: pending[..<(pending.count - keep)], as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// Length of the trailing bytes that are a proper prefix of some valid UTF-8 sequence (0–3).
    /// Cutting just before them is safe: a lead byte can never belong to an earlier sequence, so
    /// the decoder's U+FFFD substitutions on both sides stay where they are.
    static func incompleteSuffixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        var start = n - 1
        // Step back over at most 3 continuation bytes to a lead byte.
        while start >= 0, n - start <= 3, b[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 else { return 0 }
        let lead = b[start]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return 0   // ASCII or a byte that never starts a sequence
        }
        let have = n - start
        guard have < need else { return 0 }   // complete (or over-long run: decoder handles it)
        if have >= 2 {
            // The second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF).
            let second = b[start + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = (0xA0...0xBF).contains(second)
            case 0xED: ok = (0x80...0x9F).contains(second)
            case 0xF0: ok = (0x90...0xBF).contains(second)
            case 0xF4: ok = (0x80...0x8F).contains(second)
            default: ok = true
            }
            if !ok { return 0 }
        }
        return have
    }
}
