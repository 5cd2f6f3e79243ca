/// One lexical token. Text outside tags is `.text`; tag contents are expression tokens.
struct Token: Equatable {
    enum Kind: Equatable { case text, blockBegin, blockEnd, varBegin, varEnd, name, string, int, float, op, eof }
    let kind: Kind
    let value: String
    let line: Int
}

/// Splits template source into tokens with jinja2's whitespace rules as HF configures them:
/// `trim_blocks` (drop the newline after a block or comment tag), `lstrip_blocks` (drop spaces and
/// tabs before a block or comment tag that starts its line), `-`/`+` markers on tags, and the
/// removal of one trailing newline (`keep_trailing_newline=False`).
struct Lexer {
    private let s: [Unicode.Scalar]
    private let lineOf: [Int]       // 1-based line of each scalar (plus one past the end)
    private var tokens: [Token] = []
    var trimBlocks = true
    var lstripBlocks = true

    init(_ source: String) {
        // jinja2 normalises newlines and drops a single trailing newline before lexing.
        var text = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if text.hasSuffix("\n") { text.removeLast() }
        s = Array(text.unicodeScalars)
        var lines = [Int]()
        lines.reserveCapacity(s.count + 1)
        var line = 1
        for u in s { lines.append(line); if u == "\n" { line += 1 } }
        lines.append(line)
        lineOf = lines
    }

    private func starts(_ p: String, at i: Int) -> Bool {
        var j = i
        for u in p.unicodeScalars {
            guard j < s.count, s[j] == u else { return false }
            j += 1
        }
        return true
    }

    private func string(_ a: Int, _ b: Int) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s[a..<b])
        return String(out)
    }

    private mutating func emit(_ k: Token.Kind, _ v: String, _ pos: Int) {
        tokens.append(Token(kind: k, value: v, line: lineOf[min(pos, s.count)]))
    }

    /// Emits data text, applying the strip rules of the tag that follows it.
    private mutating func emitText(_ a: Int, _ b: Int, sign: Unicode.Scalar?, lstrip: Bool, lineStarting: Bool) {
        var end = b
        if sign == "-" {
            while end > a, PyFormat.isSpace(s[end - 1]) { end -= 1 }
        } else if sign != "+" && lstrip && lstripBlocks {
            var lpos = end
            while lpos > a, s[lpos - 1] != "\n" { lpos -= 1 }
            if lpos > a || lineStarting {
                if s[lpos..<end].allSatisfy({ $0 == " " || $0 == "\t" }) { end = lpos }
            }
        }
        if end > a { emit(.text, string(a, end), a) }
    }

    mutating func tokenize() throws -> [Token] {
        var pos = 0
        var lineStarting = true
        while pos < s.count {
            var tag = pos
            while tag + 1 < s.count, !(s[tag] == "{" && (s[tag + 1] == "{" || s[tag + 1] == "%" || s[tag + 1] == "#")) { tag += 1 }
            if tag + 1 >= s.count {
                emit(.text, string(pos, s.count), pos)
                break
            }
            let kind = s[tag + 1]
            var after = tag + 2
            var sign: Unicode.Scalar?
            if after < s.count, s[after] == "-" || s[after] == "+" { sign = s[after]; after += 1 }
            if kind == "%", let rawEnd = rawBlockStart(after) {
                emitText(pos, tag, sign: sign, lstrip: true, lineStarting: lineStarting)
                (pos, lineStarting) = try lexRaw(from: rawEnd, startLine: tag)
                continue
            }
            emitText(pos, tag, sign: sign, lstrip: kind != "{", lineStarting: lineStarting)
            switch kind {
            case "#": (pos, lineStarting) = try skipComment(from: after, start: tag)
            case "%":
                emit(.blockBegin, "{%", tag)
                (pos, lineStarting) = try lexTag(from: after, block: true, start: tag)
            default:
                emit(.varBegin, "{{", tag)
                (pos, lineStarting) = try lexTag(from: after, block: false, start: tag)
            }
        }
        emit(.eof, "", s.count)
        return tokens
    }

    /// Consumes the end of a block/comment tag: `+%}` keeps what follows, `-%}` strips all
    /// whitespace after, plain `%}` drops one newline under trim_blocks. Returns the new position.
    private func consumeEnd(_ i: Int, close: String) -> (Int, Bool)? {
        if starts("+" + close, at: i) { return (i + 3, false) }
        if starts("-" + close, at: i) {
            var j = i + 3
            while j < s.count, PyFormat.isSpace(s[j]) { j += 1 }
            return (j, j > i + 3 && s[j - 1] == "\n")
        }
        if starts(close, at: i) {
            var j = i + 2
            if close != "}}", trimBlocks, j < s.count, s[j] == "\n" { j += 1; return (j, true) }
            return (j, false)
        }
        return nil
    }

    private mutating func skipComment(from i: Int, start: Int) throws -> (Int, Bool) {
        var p = i
        while p < s.count {
            if let end = consumeEnd(p, close: "#}") { return end }
            p += 1
        }
        throw TemplateError.syntax("Missing end of comment tag", line: lineOf[start])
    }

    /// If `{% raw %}` starts here, returns the position after its closing `%}`.
    private func rawBlockStart(_ i: Int) -> Int? {
        var p = i
        while p < s.count, PyFormat.isSpace(s[p]) { p += 1 }
        guard starts("raw", at: p) else { return nil }
        p += 3
        guard p < s.count, PyFormat.isSpace(s[p]) || s[p] == "-" || s[p] == "%" else { return nil }
        while p < s.count, PyFormat.isSpace(s[p]) { p += 1 }
        if starts("-%}", at: p) {
            p += 3
            while p < s.count, PyFormat.isSpace(s[p]) { p += 1 }
            return p
        }
        return starts("%}", at: p) ? p + 2 : nil
    }

    private mutating func lexRaw(from i: Int, startLine: Int) throws -> (Int, Bool) {
        var p = i
        while p + 1 < s.count {
            if s[p] == "{", s[p + 1] == "%" {
                var q = p + 2
                var sign: Unicode.Scalar?
                if q < s.count, s[q] == "-" || s[q] == "+" { sign = s[q]; q += 1 }
                while q < s.count, PyFormat.isSpace(s[q]) { q += 1 }
                if starts("endraw", at: q) {
                    q += 6
                    while q < s.count, PyFormat.isSpace(s[q]) { q += 1 }
                    if let end = consumeEnd(q, close: "%}") {
                        emitText(i, p, sign: sign, lstrip: true, lineStarting: false)
                        return end
                    }
                }
            }
            p += 1
        }
        throw TemplateError.syntax("Missing end of raw directive", line: lineOf[startLine])
    }

    private static let operators = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]",
                                    "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"]

    private static func isDigit(_ u: Unicode.Scalar) -> Bool { u.value >= 48 && u.value <= 57 }
    private static func isNameStart(_ u: Unicode.Scalar) -> Bool { u == "_" || u.properties.isAlphabetic }
    private static func isNameChar(_ u: Unicode.Scalar) -> Bool { isNameStart(u) || u.properties.numericType != nil }

    private mutating func lexTag(from start: Int, block: Bool, start tagStart: Int) throws -> (Int, Bool) {
        var p = start
        var depth = 0
        let close = block ? "%}" : "}}"
        while true {
            while p < s.count, PyFormat.isSpace(s[p]) { p += 1 }
            guard p < s.count else {
                throw TemplateError.syntax("unexpected end of template, expected '\(close)'", line: lineOf[tagStart])
            }
            if depth == 0 {
                if block, let end = consumeEnd(p, close: close) {
                    emit(.blockEnd, close, p)
                    return end
                }
                if !block {
                    if starts("-}}", at: p), let end = consumeEnd(p, close: close) { emit(.varEnd, close, p); return end }
                    if starts("}}", at: p) { emit(.varEnd, close, p); return (p + 2, false) }
                }
            }
            let u = s[p]
            if Lexer.isDigit(u) {
                p = lexNumber(p)
            } else if Lexer.isNameStart(u) {
                var q = p + 1
                while q < s.count, Lexer.isNameChar(s[q]) { q += 1 }
                emit(.name, string(p, q), p)
                p = q
            } else if u == "'" || u == "\"" {
                p = try lexString(p)
            } else if let op = Lexer.operators.first(where: { starts($0, at: p) }) {
                if op == "(" || op == "[" || op == "{" { depth += 1 }
                if op == ")" || op == "]" || op == "}" { depth = max(0, depth - 1) }
                emit(.op, op, p)
                p += op.unicodeScalars.count
            } else {
                throw TemplateError.syntax("unexpected char \(PyFormat.stringRepr(String(u)))", line: lineOf[p])
            }
        }
    }

    private mutating func lexNumber(_ start: Int) -> Int {
        func digits(_ i: Int) -> Int {
            var j = i
            while j < s.count, Lexer.isDigit(s[j]) || (s[j] == "_" && j + 1 < s.count && Lexer.isDigit(s[j + 1]) && j > i) { j += 1 }
            return j
        }
        if s[start] == "0", start + 2 < s.count, let radix = ["x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2][s[start + 1]],
           s[start + 2].properties.numericType != nil || (radix == 16 && s[start + 2].isASCIIHexLetter) {
            var q = start + 2
            while q < s.count, s[q] == "_" || Int(String(s[q]), radix: radix) != nil { q += 1 }
            emit(.int, string(start, q).replacingOccurrences(of: "_", with: ""), start)
            return q
        }
        var p = digits(start)
        var isFloat = false
        let afterDot = tokens.last.map { $0.kind == .op && $0.value == "." } ?? false
        if !afterDot {
            if p + 1 < s.count, s[p] == ".", Lexer.isDigit(s[p + 1]) { p = digits(p + 1); isFloat = true }
            if p < s.count, s[p] == "e" || s[p] == "E" {
                var q = p + 1
                if q < s.count, s[q] == "+" || s[q] == "-" { q += 1 }
                if q < s.count, Lexer.isDigit(s[q]) { p = digits(q); isFloat = true }
            }
        }
        emit(isFloat ? .float : .int, string(start, p).replacingOccurrences(of: "_", with: ""), start)
        return p
    }

    private mutating func lexString(_ start: Int) throws -> Int {
        let q = s[start]
        var p = start + 1
        var out = String.UnicodeScalarView()
        while true {
            guard p < s.count else { throw TemplateError.syntax("unterminated string", line: lineOf[start]) }
            let u = s[p]
            if u == q { p += 1; break }
            if u != "\\" { out.append(u); p += 1; continue }
            guard p + 1 < s.count else { throw TemplateError.syntax("unterminated string", line: lineOf[start]) }
            let e = s[p + 1]
            p += 2
            switch e {
            case "\\", "'", "\"": out.append(e)
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": break
            case "0"..."7":
                var v = e.value - 48
                var n = 1
                while n < 3, p < s.count, ("0"..."7").contains(s[p]) { v = v * 8 + s[p].value - 48; p += 1; n += 1 }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            case "x", "u", "U":
                let width = e == "x" ? 2 : (e == "u" ? 4 : 8)
                guard p + width <= s.count, let v = UInt32(string(p, p + width), radix: 16), let scalar = Unicode.Scalar(v) else {
                    throw TemplateError.syntax("invalid \\\(e) escape in string", line: lineOf[start])
                }
                out.append(scalar)
                p += width
            default:
                out.append("\\")
                out.append(e)
            }
        }
        emit(.string, String(out), start)
        return p
    }
}

private extension Unicode.Scalar {
    var isASCIIHexLetter: Bool { ("a"..."f").contains(self) || ("A"..."F").contains(self) }
}
