/// A token added on top of the BPE vocabulary (GLM's `<|user|>`, `<think>`, `/nothink`...).
public struct AddedToken: Sendable, Equatable {
    public let id: Int
    public let content: String
    /// Special tokens are dropped by `decode(skipSpecialTokens: true)` and, with
    /// `encode(allowSpecial: false)`, are not matched in input text.
    public let special: Bool
    /// HF: the match also swallows whitespace on its left / right.
    public let lstrip: Bool
    public let rstrip: Bool
    /// HF: matched against normalized text (after the normalizer) rather than the raw input.
    public let normalized: Bool

    public init(id: Int, content: String, special: Bool, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
    }
}

/// A piece of input after added-token splitting.
enum AddedSegment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// Finds added tokens verbatim in text, leftmost-longest and non-overlapping, like the
/// Aho-Corasick `LeftmostLongest` matcher of HF's `AddedVocabulary`. (tiktoken matches its
/// specials leftmost-first; the two agree whenever no added token is a prefix of another one
/// starting at the same place, which holds for GLM's set.)
struct AddedTokenMatcher: Sendable {
    let tokens: [AddedToken]
    /// Byte trie: children per node as (byte, child) pairs; `terminal` = token index or -1.
    private var children: [[(UInt8, Int32)]] = [[]]
    private var terminal: [Int32] = [-1]
    private var firstByte = [Bool](repeating: false, count: 256)

    init(tokens: [AddedToken]) {
        self.tokens = tokens
        for (index, token) in tokens.enumerated() where !token.content.isEmpty {
            var node = 0
            for b in token.content.utf8 {
                if let child = children[node].first(where: { $0.0 == b })?.1 {
                    node = Int(child)
                } else {
                    children.append([])
                    terminal.append(-1)
                    children[node].append((b, Int32(children.count - 1)))
                    node = children.count - 1
                }
            }
            if terminal[node] < 0 { terminal[node] = Int32(index) }  // first definition wins
            firstByte[Int(token.content.utf8.first!)] = true
        }
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Splits `p[range]` into text and added-token segments. With `allowSpecial == false` a
    /// special token's match is skipped (its text stays ordinary text), as HF does with
    /// `encode_special_tokens`.
    func segments(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, allowSpecial: Bool) -> [AddedSegment] {
        var out: [AddedSegment] = []
        var lastEnd = range.lowerBound
        var i = range.lowerBound
        let n = range.upperBound
        while i < n {
            if !firstByte[Int(p[i])] { i += 1; continue }
            var node = 0
            var j = i
            var best: Int32 = -1
            var bestEnd = i
            while j < n, let child = children[node].first(where: { $0.0 == p[j] })?.1 {
                node = Int(child)
                j += 1
                if terminal[node] >= 0 { best = terminal[node]; bestEnd = j }
            }
            if best < 0 { i += 1; continue }
            let token = tokens[Int(best)]
            if token.special && !allowSpecial { i = bestEnd; continue }
            var start = i
            var stop = bestEnd
            if token.lstrip {
                while start > lastEnd {
                    var k = start - 1
                    while k > lastEnd, p[k] & 0xC0 == 0x80 { k -= 1 }
                    guard isWhitespace(p, k) else { break }
                    start = k
                }
            }
            if token.rstrip {
                while stop < n, isWhitespace(p, stop) { stop += scalarAt(p.baseAddress!, stop).1 }
            }
            if lastEnd < start { out.append(.text(lastEnd..<start)) }
            out.append(.token(token.id))
            lastEnd = stop
            i = max(bestEnd, stop)
        }
        if lastEnd < n { out.append(.text(lastEnd..<n)) }
        return out
    }

    private func isWhitespace(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        UnicodeClasses.classOf(scalarAt(p.baseAddress!, i).0) == UnicodeClasses.space
    }
}
