import Foundation

/// Python's text formatting rules for numbers and strings, which chat-template output must match.
enum PyFormat {
    /// `repr(float)`: shortest round-trip digits; fixed notation when the decimal exponent is
    /// in [-4, 16), else `d.ddde+XX`.
    static func floatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description is also shortest round-trip; only the layout differs.
        var s = "\(abs(d))"
        var exp = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp = Int(s[s.index(after: e)...]) ?? 0
            s = String(s[..<e])
        }
        var intPart = s
        var frac = ""
        if let dot = s.firstIndex(of: ".") {
            intPart = String(s[..<dot])
            frac = String(s[s.index(after: dot)...])
        }
        var digits = intPart + frac
        var pointPos = intPart.count + exp   // decimal point sits after `pointPos` digits
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); pointPos -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sciExp = pointPos - 1
        var out: String
        if sciExp >= -4 && sciExp < 16 {
            if pointPos <= 0 {
                out = "0." + String(repeating: "0", count: -pointPos) + digits
            } else if pointPos >= digits.count {
                out = digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
            } else {
                let i = digits.index(digits.startIndex, offsetBy: pointPos)
                out = digits[..<i] + "." + digits[i...]
            }
        } else {
            let mant = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
            let e = abs(sciExp)
            out = mant + "e" + (sciExp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
        }
        return d < 0 ? "-" + out : out
    }

    /// `repr(str)`: single quotes unless the text has a `'` and no `"`.
    static func stringRepr(_ s: String) -> String {
        let quote: Unicode.Scalar = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u == quote { out += "\\" + String(u) }
                else if isPrintable(u) { out.unicodeScalars.append(u) }
                else if u.value < 0x100 { out += "\\x" + hex(u.value, 2) }
                else if u.value < 0x10000 { out += "\\u" + hex(u.value, 4) }
                else { out += "\\U" + hex(u.value, 8) }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }

    /// Python `str.isprintable` for one character.
    static func isPrintable(_ u: Unicode.Scalar) -> Bool {
        if u == " " { return true }
        switch u.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default: return true
        }
    }

    /// Python `str.isspace` for one character (Unicode White_Space plus the ASCII separators).
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        (0x1C...0x1F).contains(u.value) || u.properties.isWhitespace
    }
}

/// Python `json.dumps` for template values (HF's `tojson`: `ensure_ascii=False` by default,
/// separators `", "`/`": "`, or `","` with an indent, key order kept).
enum PyJSON {
    struct Options {
        var indent: String? = nil
        var itemSeparator: String? = nil
        var keySeparator: String = ": "
        var ensureASCII = false
        var sortKeys = false
    }

    static func dumps(_ v: Value, _ o: Options) throws -> String {
        var out = ""
        try check(v)
        write(v, into: &out, options: o, level: 0)
        return out
    }

    /// Rejects what `json.dumps` cannot serialize, before anything is written.
    private static func check(_ v: Value) throws {
        switch v {
        case .undefined: throw TemplateError.runtime("Object of type Undefined is not JSON serializable")
        case .callable, .loop, .namespace: throw TemplateError.runtime("Object of type \(v.typeName) is not JSON serializable")
        case .list(let a), .tuple(let a): for x in a { try check(x) }
        case .dict(let d):
            for e in d.entries {
                let k = e.key, x = e.value
                switch k {
                case .string, .int, .float, .bool, .none: break
                default: throw TemplateError.runtime("keys must be str, int, float, bool or None, not \(k.typeName)")
                }
                try check(x)
            }
        default: break
        }
    }

    static func write(_ v: Value, into out: inout String, options o: Options, level: Int) {
        let itemSep = o.itemSeparator ?? (o.indent == nil ? ", " : ",")
        switch v {
        case .none, .undefined: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += PyFormat.floatRepr(d) }
        case .string(let s): quote(s, into: &out, ensureASCII: o.ensureASCII)
        case .list(let a), .tuple(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, x) in a.enumerated() {
                if i > 0 { out += itemSep }
                newline(&out, o, level + 1)
                write(x, into: &out, options: o, level: level + 1)
            }
            newline(&out, o, level)
            out += "]"
        case .dict(let d):
            if d.count == 0 { out += "{}"; return }
            var entries = d.entries
            if o.sortKeys { entries.sort { $0.key.pyStr < $1.key.pyStr } }
            out += "{"
            for (i, e) in entries.enumerated() {
                if i > 0 { out += itemSep }
                newline(&out, o, level + 1)
                quote(jsonKey(e.key), into: &out, ensureASCII: o.ensureASCII)
                out += o.keySeparator
                write(e.value, into: &out, options: o, level: level + 1)
            }
            newline(&out, o, level)
            out += "}"
        case .namespace, .callable, .loop: out += "null"
        }
    }

    /// Non-string keys become strings the way `json.dumps` converts them.
    private static func jsonKey(_ k: Value) -> String {
        switch k {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .none: return "null"
        default: return k.pyStr
        }
    }

    private static func newline(_ out: inout String, _ o: Options, _ level: Int) {
        guard let ind = o.indent else { return }
        out += "\n" + String(repeating: ind, count: level)
    }

    static func quote(_ s: String, into out: inout String, ensureASCII: Bool) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || (ensureASCII && u.value > 0x7E) {
                    if u.value >= 0x10000 {
                        let v = u.value - 0x10000
                        out += "\\u" + PyFormat.hex(0xD800 + (v >> 10), 4) + "\\u" + PyFormat.hex(0xDC00 + (v & 0x3FF), 4)
                    } else {
                        out += "\\u" + PyFormat.hex(u.value, 4)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
