/// A small JSON value for tool-call arguments and tool schemas. Objects keep key order and
/// serialization follows Python's `json.dumps(x, ensure_ascii=False)` (`", "` / `": "`), because
/// the arguments we produce must equal what SGLang's glm45 parser produces.
public indirect enum ToolJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`, kept as its digits (Python ints are unbounded).
    case bigInt(String)
    case double(Double)
    case string(String)
    case array([ToolJSON])
    case object([(String, ToolJSON)])

    public static func == (a: ToolJSON, b: ToolJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bigInt(let x), .bigInt(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> ToolJSON? {
        guard case .object(let o) = self else { return nil }
        return o.last { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    /// Parses JSON text as Python's `json.loads` does (surrounding whitespace allowed, `NaN`,
    /// `Infinity`, `-Infinity` accepted); nil if it is not valid.
    public static func parse(_ text: String) -> ToolJSON? {
        var p = ToolJSONParser(Array(text.utf8))
        return p.document()
    }

    /// `json.dumps(x, ensure_ascii=False)`.
    public var pythonJSON: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .bigInt(let s): out += s
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += PythonFloat.repr(d) }
        case .string(let s): out += ToolJSON.quote(s)
        case .array(let a):
            out += "["
            for (i, x) in a.enumerated() { if i > 0 { out += ", " }; x.write(into: &out) }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out += ", " }
                out += ToolJSON.quote(k) + ": "
                v.write(into: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal without the quotes, escaped as `json.dumps(ensure_ascii=False)` does.
    /// Escaping is per character, so escaping pieces and concatenating equals escaping the whole.
    public static func escape(_ s: String) -> String {
        var out = ""
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
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    public static func quote(_ s: String) -> String { "\"" + escape(s) + "\"" }

    /// Python `str(x)` of the decoded value (used when a string-typed argument held a scalar).
    var pythonStr: String {
        switch self {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .bigInt(let s): return s
        case .double(let d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            return PythonFloat.repr(d)
        case .string(let s): return s
        default: return pythonJSON
        }
    }
}

/// Python's `repr(float)`: shortest round-trip digits; scientific outside 1e-4 ≤ |x| < 1e16.
enum PythonFloat {
    static func repr(_ d: Double) -> String {
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        var s = "\(abs(d))"
        var exp = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp = Int(s[s.index(after: e)...]) ?? 0
            s = String(s[..<e])
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0]), frac = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + frac
        var point = intPart.count + exp
        while digits.count > 1 && digits.hasPrefix("0") { digits.removeFirst(); point -= 1 }
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        let sci = point - 1
        var out: String
        if sci >= -4 && sci < 16 {
            if point <= 0 { out = "0." + String(repeating: "0", count: -point) + digits }
            else if point >= digits.count { out = digits + String(repeating: "0", count: point - digits.count) + ".0" }
            else { out = String(digits.prefix(point)) + "." + String(digits.dropFirst(point)) }
        } else {
            let mant = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
            out = mant + "e" + (sci < 0 ? "-" : "+") + (abs(sci) < 10 ? "0" : "") + String(abs(sci))
        }
        return d < 0 ? "-" + out : out
    }
}

/// Strict JSON over UTF-8 bytes, plus Python's NaN/Infinity; never throws, returns nil instead.
struct ToolJSONParser {
    private let b: [UInt8]
    private var i = 0
    private var depth = 0
    init(_ bytes: [UInt8]) { b = bytes }

    mutating func document() -> ToolJSON? {
        ws()
        guard let v = value() else { return nil }
        ws()
        return i == b.count ? v : nil
    }

    private mutating func ws() { while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 } }

    private mutating func lit(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard i + u.count <= b.count, Array(b[i..<i + u.count]) == u else { return false }
        i += u.count
        return true
    }

    private mutating func value() -> ToolJSON? {
        guard i < b.count, depth < 256 else { return nil }
        switch b[i] {
        case UInt8(ascii: "{"):
            depth += 1; defer { depth -= 1 }
            i += 1; ws()
            var o: [(String, ToolJSON)] = []
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                ws()
                guard i < b.count, b[i] == UInt8(ascii: "\""), let k = string() else { return nil }
                ws()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1; ws()
                guard let v = value() else { return nil }
                // Python dicts keep the first position and the last value of a repeated key.
                if let j = o.firstIndex(where: { $0.0 == k }) { o[j].1 = v } else { o.append((k, v)) }
                ws()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                return nil
            }
        case UInt8(ascii: "["):
            depth += 1; defer { depth -= 1 }
            i += 1; ws()
            var a: [ToolJSON] = []
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                ws()
                guard let v = value() else { return nil }
                a.append(v)
                ws()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                return nil
            }
        case UInt8(ascii: "\""): return string().map(ToolJSON.string)
        case UInt8(ascii: "t"): return lit("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return lit("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return lit("null") ? .null : nil
        case UInt8(ascii: "N"): return lit("NaN") ? .double(.nan) : nil
        case UInt8(ascii: "I"): return lit("Infinity") ? .double(.infinity) : nil
        default: return number()
        }
    }

    private mutating func hex4() -> UInt32? {
        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<i + 4], as: UTF8.self), radix: 16) else { return nil }
        i += 4
        return v
    }

    private mutating func string() -> String? {
        i += 1
        var out = [UInt8]()
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c < 0x20 { return nil }
            i += 1
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard i < b.count else { return nil }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var cp = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(cp), i + 1 < b.count, b[i] == 0x5C, b[i + 1] == UInt8(ascii: "u") {
                    let save = i
                    i += 2
                    if let lo = hex4(), (0xDC00..<0xE000).contains(lo) { cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) } else { i = save }
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(cp).map(Character.init) ?? "\u{FFFD}").utf8))
            default: return nil
            }
        }
        return nil
    }

    private mutating func number() -> ToolJSON? {
        let start = i
        if i < b.count, b[i] == UInt8(ascii: "-") {
            i += 1
            if lit("Infinity") { return .double(-.infinity) }
        }
        func digits() -> Int { let s = i; while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }; return i - s }
        let intStart = i
        guard digits() > 0 else { return nil }
        if b[intStart] == 0x30, i - intStart > 1 { return nil }
        var isFloat = false
        if i < b.count, b[i] == UInt8(ascii: ".") { i += 1; isFloat = true; guard digits() > 0 else { return nil } }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1; isFloat = true
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        let text = String(decoding: b[start..<i], as: UTF8.self)
        if !isFloat { return Int(text).map(ToolJSON.int) ?? .bigInt(text) }
        return Double(text).map(ToolJSON.double)
    }
}
