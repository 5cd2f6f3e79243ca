/// Hand-written scanners for the pre-tokenizer regexes that common byte-level BPE models use.
/// They return exactly the pieces that the references' backtracking engines (fancy-regex in
/// tiktoken, Oniguruma in tokenizers) return, at a small fraction of the cost of
/// NSRegularExpression, by walking UTF-8 once with a per-code-point class table.
///
/// Known patterns:
/// * GLM-4 / GLM-4.5 and Llama 3 (`\p{N}{1,3}`), Qwen2 (`\p{N}`):
///   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// * GPT-2 (HF `ByteLevel` with `use_regex: true`):
///   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
///
/// Every alternative consumes at least one character and every character starts some
/// alternative, so the pieces tile the input with no gaps.
struct PatternScanner: Sendable {
    enum Kind: Sendable, Equatable {
        case glm4(maxDigits: Int)
        case gpt2
    }

    let kind: Kind

    static let glm4Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    static let glm4 = PatternScanner(kind: .glm4(maxDigits: 3))
    static let gpt2 = PatternScanner(kind: .gpt2)

    /// A scanner for `pattern` when it is one of the known ones (spelled exactly).
    static func forPattern(_ pattern: String) -> PatternScanner? {
        switch pattern {
        case glm4Pattern: return glm4
        case qwen2Pattern: return PatternScanner(kind: .glm4(maxDigits: 1))
        case gpt2Pattern: return gpt2
        default: return nil
        }
    }

    /// End (exclusive) of the piece that starts at `i`; `end` is the end of the text (lookaheads
    /// see nothing beyond it). `p[i..<end]` must be valid UTF-8 starting at a scalar boundary.
    @inline(__always)
    func pieceEnd(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ cls: UnsafePointer<UInt8>) -> Int {
        switch kind {
        case .glm4(let maxDigits): return glm4End(p, i, end, cls, maxDigits)
        case .gpt2: return gpt2End(p, i, end, cls)
        }
    }

    // MARK: - GLM-4 / Llama 3 / Qwen2

    @inline(__always)
    private func glm4End(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ cls: UnsafePointer<UInt8>,
                         _ maxDigits: Int) -> Int {
        let b0 = p[i]
        // (?i:'s|'t|'re|'ve|'m|'ll|'d). `| 0x20` lowercases ASCII letters and maps nothing else
        // onto them. Unicode case folding adds one more match: ſ (U+017F) folds to s.
        if b0 == 0x27, i + 1 < end {
            let b1 = p[i + 1] | 0x20
            switch b1 {
            case 0x73, 0x74, 0x6D, 0x64: return i + 2                      // s t m d
            case 0x72, 0x76: if i + 2 < end, p[i + 2] | 0x20 == 0x65 { return i + 3 }  // re ve
            case 0x6C: if i + 2 < end, p[i + 2] | 0x20 == 0x6C { return i + 3 }        // ll
            default: break
            }
            if p[i + 1] == 0xC5, i + 2 < end, p[i + 2] == 0xBF { return i + 3 }       // 'ſ
        }
        let (v0, l0) = scalarAt(p, i)
        let c0 = cls[Int(v0)]
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if c0 == UnicodeClasses.letter { return run(p, i + l0, end, cls, UnicodeClasses.letter) }
        if c0 != UnicodeClasses.number, b0 != 0x0D, b0 != 0x0A, i + l0 < end {
            let (v1, l1) = scalarAt(p, i + l0)
            if cls[Int(v1)] == UnicodeClasses.letter {
                return run(p, i + l0 + l1, end, cls, UnicodeClasses.letter)
            }
        }
        // \p{N}{1,maxDigits}
        if c0 == UnicodeClasses.number {
            var j = i + l0
            var k = 1
            while k < maxDigits, j < end {
                let (v, l) = scalarAt(p, j)
                if cls[Int(v)] != UnicodeClasses.number { break }
                j += l
                k += 1
            }
            return j
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        var j = b0 == 0x20 ? i + 1 : i
        if j < end {
            let (v, l) = scalarAt(p, j)
            if cls[Int(v)] == UnicodeClasses.other {
                j = run(p, j + l, end, cls, UnicodeClasses.other)
                while j < end, p[j] == 0x0D || p[j] == 0x0A { j += 1 }
                return j
            }
        }
        // Only whitespace is left. \s*[\r\n]+ backtracks to the last CR/LF of the run;
        // \s+(?!\S) stops before the run's last character unless the run ends the text.
        j = i
        var lastBreak = -1
        var lastStart = i
        var count = 0
        while j < end {
            let (v, l) = scalarAt(p, j)
            if cls[Int(v)] != UnicodeClasses.space { break }
            if v == 0x0D || v == 0x0A { lastBreak = j }
            lastStart = j
            j += l
            count += 1
        }
        if lastBreak >= 0 { return lastBreak + 1 }
        if j == end || count == 1 { return j }
        return lastStart
    }

    // MARK: - GPT-2

    @inline(__always)
    private func gpt2End(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ cls: UnsafePointer<UInt8>) -> Int {
        let b0 = p[i]
        if b0 == 0x27, i + 1 < end {   // case-sensitive contractions
            switch p[i + 1] {
            case 0x73, 0x74, 0x6D, 0x64: return i + 2
            case 0x72, 0x76: if i + 2 < end, p[i + 2] == 0x65 { return i + 3 }
            case 0x6C: if i + 2 < end, p[i + 2] == 0x6C { return i + 3 }
            default: break
            }
        }
        // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
        if b0 == 0x20, i + 1 < end {
            let (v, l) = scalarAt(p, i + 1)
            let c = cls[Int(v)]
            if c != UnicodeClasses.space { return run(p, i + 1 + l, end, cls, c) }
        }
        let (v0, l0) = scalarAt(p, i)
        let c0 = cls[Int(v0)]
        if c0 != UnicodeClasses.space { return run(p, i + l0, end, cls, c0) }
        // \s+(?!\S) | \s+
        var j = i
        var lastStart = i
        var count = 0
        while j < end {
            let (v, l) = scalarAt(p, j)
            if cls[Int(v)] != UnicodeClasses.space { break }
            lastStart = j
            j += l
            count += 1
        }
        if j == end || count == 1 { return j }
        return lastStart
    }

    // MARK: - Helpers

    /// Extends from `j` over scalars of class `c`.
    @inline(__always)
    private func run(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ cls: UnsafePointer<UInt8>, _ c: UInt8) -> Int {
        var j = start
        while j < end {
            let b = p[j]
            if b < 0x80 {
                if cls[Int(b)] != c { break }
                j += 1
            } else {
                let (v, l) = scalarAt(p, j)
                if cls[Int(v)] != c { break }
                j += l
            }
        }
        return j
    }
}

/// Decodes the scalar at `i` of valid UTF-8: (value, byte length).
@inline(__always)
func scalarAt(_ p: UnsafePointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 {
        return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
    }
    return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
            | UInt32(p[i + 3] & 0x3F), 4)
}
