import Foundation

/// The Hugging Face pre-tokenizer stages we support, applied in order to byte ranges of a UTF-8
/// buffer. Semantics follow `tokenizers` (`normalizer.rs` `split`, `pre_tokenizers/*.rs`):
/// a stage splits every current piece; empty pieces are dropped.
enum PreTokenizerStage: Sendable {
    /// `Split` (and `Digits`, which is a split on numeric characters).
    case split(SplitMatcher, SplitBehavior, invert: Bool)
    /// `ByteLevel`: optional prefix space per piece, optional GPT-2 regex split. The byte ↔ char
    /// mapping itself is implicit: we work on raw bytes throughout.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
}

/// HF `SplitDelimiterBehavior`.
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// What a split looks for.
enum SplitMatcher: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe
    case scanner(PatternScanner)
    case regex(NSRegularExpression)
    case literal([UInt8])
    /// Each character with general category N (Rust `char::is_numeric`) is one match.
    /// Unlike the regex engines, Rust's std follows the compiler's Unicode version (17 for the
    /// tokenizers 0.23 wheels), which Swift 6.3's stdlib shares, so stdlib properties are exact here.
    case numeric
}

/// A pre-tokenizer pipeline plus the fast path for the common single-regex case.
struct PreTokenizer: Sendable {
    let stages: [PreTokenizerStage]

    /// When the whole pipeline is "split with a known pattern, isolated" (GLM, Llama 3, Qwen2:
    /// `Split` + `ByteLevel(use_regex: false)`; GPT-2: `ByteLevel(use_regex: true)`) with no
    /// prefix space, pieces come straight from a scanner with no intermediate arrays.
    var fastScanner: PatternScanner? {
        var scanner: PatternScanner?
        for stage in stages {
            switch stage {
            case .split(.scanner(let s), .isolated, invert: false):
                if scanner != nil { return nil }
                scanner = s
            case .byteLevel(addPrefixSpace: false, useRegex: let useRegex):
                if useRegex {
                    if scanner != nil { return nil }
                    scanner = .gpt2
                }
            default:
                return nil
            }
        }
        return scanner
    }

    /// Splits `text` into pieces. Returns the buffer the ranges index (a new one when a prefix
    /// space was inserted) and the pieces in order.
    func split(_ text: [UInt8]) -> (buffer: [UInt8], pieces: [Range<Int>]) {
        var buffer = text
        var pieces: [Range<Int>] = text.isEmpty ? [] : [0..<text.count]
        for stage in stages {
            switch stage {
            case .split(let matcher, let behavior, let invert):
                var next: [Range<Int>] = []
                next.reserveCapacity(pieces.count)
                for piece in pieces {
                    let found = matches(matcher, buffer, piece)
                    apply(behavior, invert: invert, found, into: &next)
                }
                pieces = next
            case .byteLevel(let addPrefixSpace, let useRegex):
                if addPrefixSpace {
                    (buffer, pieces) = prefixingSpaces(buffer, pieces)
                }
                if useRegex {
                    var next: [Range<Int>] = []
                    for piece in pieces {
                        apply(.isolated, invert: false, matches(.scanner(.gpt2), buffer, piece), into: &next)
                    }
                    pieces = next
                }
            }
        }
        return (buffer, pieces)
    }

    /// HF ByteLevel prepends " " to every piece that does not start with one.
    private func prefixingSpaces(_ buffer: [UInt8], _ pieces: [Range<Int>]) -> ([UInt8], [Range<Int>]) {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count + pieces.count)
        var ranges: [Range<Int>] = []
        for piece in pieces {
            let start = out.count
            if buffer[piece.lowerBound] != 0x20 { out.append(0x20) }
            out.append(contentsOf: buffer[piece])
            ranges.append(start..<out.count)
        }
        return (out, ranges)
    }

    /// (range, isMatch) segments tiling `range`, like HF `Pattern::find_matches`.
    private func matches(_ matcher: SplitMatcher, _ buffer: [UInt8], _ range: Range<Int>) -> [(Range<Int>, Bool)] {
        var out: [(Range<Int>, Bool)] = []
        switch matcher {
        case .scanner(let scanner):
            buffer.withUnsafeBufferPointer { bp in
                let p = bp.baseAddress!
                let cls = UnicodeClasses.table.pointer
                var i = range.lowerBound
                while i < range.upperBound {
                    let e = scanner.pieceEnd(p, i, range.upperBound, cls)
                    out.append((i..<e, true))
                    i = e
                }
            }
        case .regex(let regex):
            let text = String(decoding: buffer[range], as: UTF8.self)
            // NSRegularExpression reports UTF-16 offsets; map them back to UTF-8.
            var utf8At = [Int](repeating: 0, count: text.utf16.count + 1)
            var u16 = 0, u8 = 0
            for s in text.unicodeScalars {
                let n16 = s.utf16.count
                for k in 0..<n16 { utf8At[u16 + k] = u8 }
                u16 += n16
                u8 += s.utf8.count
            }
            utf8At[u16] = u8
            var prev = 0
            let all = NSRange(location: 0, length: text.utf16.count)
            for m in regex.matches(in: text, range: all) {
                let s = utf8At[m.range.location], e = utf8At[m.range.location + m.range.length]
                if prev < s { out.append((range.lowerBound + prev..<range.lowerBound + s, false)) }
                out.append((range.lowerBound + s..<range.lowerBound + e, true))
                prev = e
            }
            if prev < u8 { out.append((range.lowerBound + prev..<range.upperBound, false)) }
        case .literal(let needle):
            var prev = range.lowerBound
            var i = range.lowerBound
            if !needle.isEmpty {
                while i + needle.count <= range.upperBound {
                    if buffer[i..<(i + needle.count)].elementsEqual(needle) {
                        if prev < i { out.append((prev..<i, false)) }
                        out.append((i..<(i + needle.count), true))
                        i += needle.count
                        prev = i
                    } else {
                        i += 1
                    }
                }
            }
            if prev < range.upperBound { out.append((prev..<range.upperBound, false)) }
        case .numeric:
            buffer.withUnsafeBufferPointer { bp in
                let p = bp.baseAddress!
                var prev = range.lowerBound
                var i = range.lowerBound
                while i < range.upperBound {
                    let (v, l) = scalarAt(p, i)
                    if isNumeric(v) {
                        if prev < i { out.append((prev..<i, false)) }
                        out.append((i..<(i + l), true))
                        prev = i + l
                    }
                    i += l
                }
                if prev < range.upperBound { out.append((prev..<range.upperBound, false)) }
            }
        }
        return out
    }

    /// HF `NormalizedString::split` behaviours, including their quirks (consecutive matches are
    /// not merged by MergedWithPrevious / MergedWithNext).
    private func apply(_ behavior: SplitBehavior, invert: Bool, _ segments: [(Range<Int>, Bool)],
                       into out: inout [Range<Int>]) {
        let segs = invert ? segments.map { ($0.0, !$0.1) } : segments
        var acc: [Range<Int>] = []
        switch behavior {
        case .isolated:
            acc = segs.map(\.0)
        case .removed:
            acc = segs.filter { !$0.1 }.map(\.0)
        case .contiguous:
            var previousMatch = false
            for (r, isMatch) in segs {
                if isMatch == previousMatch, let last = acc.last {
                    acc[acc.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    acc.append(r)
                }
                previousMatch = isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for (r, isMatch) in segs {
                if isMatch, !previousMatch, let last = acc.last {
                    acc[acc.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    acc.append(r)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (r, isMatch) in segs.reversed() {
                if isMatch, !previousMatch, let last = acc.last {
                    acc[acc.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    acc.append(r)
                }
                previousMatch = isMatch
            }
            acc.reverse()
        }
        for r in acc where !r.isEmpty { out.append(r) }
    }
}

/// Rust `char::is_numeric`: general category Nd, Nl or No.
@inline(__always)
func isNumeric(_ v: UInt32) -> Bool {
    if v < 0x80 { return v >= 0x30 && v <= 0x39 }
    guard let s = Unicode.Scalar(v) else { return false }
    switch s.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
}
