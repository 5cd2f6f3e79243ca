/// Text helpers shared by the streaming parsers. Parsers work on Unicode scalars, not Swift
/// `Character`s: a tag must be found even when a delta boundary falls inside a grapheme cluster.
typealias Scalars = [Unicode.Scalar]

enum StreamText {
    static func scalars(_ s: String) -> Scalars { Array(s.unicodeScalars) }

    static func string<C: Collection>(_ u: C) -> String where C.Element == Unicode.Scalar {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: u)
        return String(v)
    }

    static func starts(_ buf: Scalars, with tag: Scalars, at i: Int = 0) -> Bool {
        guard buf.count - i >= tag.count else { return false }
        for j in 0..<tag.count where buf[i + j] != tag[j] { return false }
        return true
    }

    /// First position of `tag` in `buf` at or after `from`.
    static func find(_ buf: Scalars, _ tag: Scalars, from: Int = 0) -> Int? {
        guard !tag.isEmpty, buf.count >= tag.count else { return nil }
        var i = from
        while i <= buf.count - tag.count {
            if buf[i] == tag[0] && starts(buf, with: tag, at: i) { return i }
            i += 1
        }
        return nil
    }

    /// The earliest of several tags: (position, tag index).
    static func findFirst(_ buf: Scalars, _ tags: [Scalars]) -> (Int, Int)? {
        var best: (Int, Int)?
        for (k, t) in tags.enumerated() {
            if let i = find(buf, t), best == nil || i < best!.0 { best = (i, k) }
        }
        return best
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of one of `tags`: text that
    /// must be held back because the next delta may complete the tag.
    static func partialSuffix(_ buf: Scalars, _ tags: [Scalars]) -> Int {
        var best = 0
        for t in tags {
            var n = min(t.count - 1, buf.count)
            while n > best {
                if starts(buf, with: Array(t[0..<n]), at: buf.count - n) { best = n; break }
                n -= 1
            }
        }
        return best
    }

    /// Python `str.isspace` for one character.
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        (0x1C...0x1F).contains(u.value) || u.properties.isWhitespace
    }
}

/// Streams text with leading and trailing whitespace removed (Python `.strip()` of the whole),
/// by holding back each whitespace run until non-space text follows it.
struct StreamTrimmer {
    private var started = false
    private var pending = String.UnicodeScalarView()

    mutating func feed<C: Collection>(_ chunk: C) -> String where C.Element == Unicode.Scalar {
        var out = String.UnicodeScalarView()
        for u in chunk {
            if StreamText.isSpace(u) {
                if started { pending.append(u) }
            } else {
                out.append(contentsOf: pending)
                pending = String.UnicodeScalarView()
                started = true
                out.append(u)
            }
        }
        return String(out)
    }
}

/// OpenAI-style tool-call ids.
public enum ToolCallID {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// `call_` followed by 24 random alphanumerics.
    public static func random() -> String {
        var g = SystemRandomNumberGenerator()
        return "call_" + String((0..<24).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }
}
