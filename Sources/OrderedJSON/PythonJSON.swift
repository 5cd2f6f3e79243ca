/// Python's `json.dumps` and `repr(float)`, which chat-template output and tool-call arguments
/// must match byte for byte (SGLang and the official template render with Python).
public enum PythonJSON {
    public struct Options: Sendable {
        /// Python's `indent` as the string each level adds; nil for one line.
        public var indent: String?
        /// nil: Python's default, `", "` on one line and `","` when indenting.
        public var itemSeparator: String?
        public var keySeparator: String
        public var ensureASCII: Bool
        public var sortKeys: Bool

        public init(indent: String? = nil, itemSeparator: String? = nil, keySeparator: String = ": ",
                    ensureASCII: Bool = false, sortKeys: Bool = false) {
            self.indent = indent
            self.itemSeparator = itemSeparator
            self.keySeparator = keySeparator
            self.ensureASCII = ensureASCII
            self.sortKeys = sortKeys
        }
    }

    public static func write(_ v: JSONValue, into out: inout String, options o: Options, level: Int = 0) {
        let itemSeparator = o.itemSeparator ?? (o.indent == nil ? ", " : ",")
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .bigInt(let s): out += s
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += floatRepr(d) }
        case .string(let s): quote(s, into: &out, ensureASCII: o.ensureASCII)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, x) in a.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(&out, o, level + 1)
                write(x, into: &out, options: o, level: level + 1)
            }
            newline(&out, o, level)
            out += "]"
        case .object(let object):
            if object.isEmpty { out += "{}"; return }
            var entries = object.entries
            if o.sortKeys { entries.sort { $0.key < $1.key } }
            out += "{"
            for (i, e) in entries.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(&out, o, level + 1)
                quote(e.key, into: &out, ensureASCII: o.ensureASCII)
                out += o.keySeparator
                write(e.value, into: &out, options: o, level: level + 1)
            }
            newline(&out, o, level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ o: Options, _ level: Int) {
        guard let indent = o.indent else { return }
        out += "\n" + String(repeating: indent, count: level)
    }

    /// A JSON string literal as `json.dumps` writes it.
    public static func quote(_ s: String, into out: inout String, ensureASCII: Bool = false) {
        out += "\""
        escape(s, into: &out, ensureASCII: ensureASCII)
        out += "\""
    }

    public static func quote(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }

    /// The inside of a JSON string literal. Escaping is per character, so escaping pieces and
    /// concatenating equals escaping the whole (streamed tool-call arguments rely on it).
    public static func escape(_ s: String, into out: inout String, ensureASCII: Bool = false) {
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
                        out += "\\u" + hex4(0xD800 + (v >> 10)) + "\\u" + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += "\\u" + hex4(u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        escape(s, into: &out)
        return out
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    /// `repr(float)`: shortest round-trip digits; fixed notation when the decimal exponent is in
    /// [-4, 16), else `d.ddde+XX`; `nan`, `inf`, `-inf` (JSON writes those differently, see `write`).
    public static func floatRepr(_ d: Double) -> String {
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
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0]), fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fraction
        var point = intPart.count + exp   // the decimal point sits after `point` digits
        while digits.count > 1 && digits.hasPrefix("0") { digits.removeFirst(); point -= 1 }
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        let exponent = point - 1
        var out: String
        if exponent >= -4 && exponent < 16 {
            if point <= 0 { out = "0." + String(repeating: "0", count: -point) + digits }
            else if point >= digits.count { out = digits + String(repeating: "0", count: point - digits.count) + ".0" }
            else { out = String(digits.prefix(point)) + "." + String(digits.dropFirst(point)) }
        } else {
            let mantissa = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
            out = mantissa + "e" + (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
        }
        return d < 0 ? "-" + out : out
    }
}

extension JSONValue {
    /// `json.dumps(x, ensure_ascii=False)` (`", "` / `": "`), or with `indent` / `ensure_ascii`.
    public func pythonJSON(indent: Int? = nil, ensureASCII: Bool = false) -> String {
        var out = ""
        PythonJSON.write(self, into: &out, options: .init(indent: indent.map { String(repeating: " ", count: $0) },
                                                          ensureASCII: ensureASCII))
        return out
    }

    /// Compact JSON (`","`, `":"`), non-ASCII kept: for wire formats.
    public var compactJSON: String {
        var out = ""
        PythonJSON.write(self, into: &out, options: .init(itemSeparator: ",", keySeparator: ":"))
        return out
    }
}
