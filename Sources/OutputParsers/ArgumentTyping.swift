import OrderedJSON

/// Turns the raw text between `<arg_value>` and `</arg_value>` into a JSON value, following
/// SGLang's glm45 detector (`parse_arguments` + `_parse_argument_pairs`): string-typed parameters
/// keep the raw text (a JSON string literal is unquoted, an object/array is re-serialised as a
/// string); other types are decoded as JSON, then as a JSON-escaped string, then as a Python
/// literal, and otherwise kept as the raw string.
enum ArgumentTyping {
    static func json(raw: String, type: String?) -> JSONValue {
        let (parsed, good) = parse(raw, type)
        if type == "string" {
            switch parsed {
            case .string: return parsed
            case .array, .object: return .string(parsed.pythonJSON())
            default: return .string(parsed.pythonScalarStr)
            }
        }
        return good ? parsed : .string(raw)
    }

    /// True when a string-typed value could come out different from its raw text, so streaming
    /// must wait for the whole value: its first non-space character is a quote, bracket or
    /// backslash. Any other string-typed value is always kept verbatim.
    static func stringNeedsBuffering(firstNonSpace c: Unicode.Scalar) -> Bool {
        c == "\"" || c == "'" || c == "{" || c == "[" || c == "\\"
    }

    private static func postProcess(_ v: JSONValue, _ raw: String, _ type: String?) -> JSONValue {
        var v = v
        if type == "number", case .string(let s) = v { v = convertToNumber(s) }
        if type == "string" {
            switch v {
            case .string, .array, .object: break
            default: return .string(raw)   // keep "123" / "true" exactly as the model wrote them
            }
        }
        return v
    }

    static func parse(_ raw: String, _ type: String?) -> (JSONValue, Bool) {
        if let v = try? JSONValue.parse(raw) { return (postProcess(v, raw, type), true) }
        // The value may be the inside of a JSON string literal (escaped content).
        if case .string(let inner)? = (try? JSONValue.parse("{\"tmp\": \"" + raw + "\"}"))?["tmp"], let v = try? JSONValue.parse(inner) {
            return (postProcess(v, raw, type), true)
        }
        if type == "string" {
            let u = Array(raw.unicodeScalars)
            if u.count >= 2, u.first == u.last, u.first == "\"" || u.first == "'" {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: u[1..<(u.count - 1)])
                return (.string(String(view)), true)
            }
            return (.string(raw), true)
        }
        if let v = PythonLiteral.parse(raw) { return (v, true) }
        return (.string(raw), true)
    }

    /// SGLang `_convert_to_number`: float if the text has "." or "e", else int; text on failure.
    static func convertToNumber(_ s: String) -> JSONValue {
        let t = String(s.trimmingWhitespace().filter { $0 != "_" })
        if s.contains(".") || s.lowercased().contains("e") {
            switch t.lowercased() {
            case "inf", "+inf", "infinity", "+infinity": return .double(.infinity)
            case "-inf", "-infinity": return .double(-.infinity)
            case "nan", "+nan", "-nan": return .double(.nan)
            default: return Double(t).map(JSONValue.double) ?? .string(s)
            }
        }
        var digits = t
        if digits.hasPrefix("+") { digits.removeFirst() }
        let body = digits.hasPrefix("-") ? digits.dropFirst() : Substring(digits)
        guard !body.isEmpty, body.allSatisfy({ $0.isASCIIDigitChar }) else { return .string(s) }
        return Int(digits).map(JSONValue.int) ?? .bigInt(digits)
    }
}

extension JSONValue {
    /// Python `str(x)` of a decoded scalar (a string-typed argument that held `true` or `1.50`).
    fileprivate var pythonScalarStr: String {
        switch self {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .bigInt(let s): return s
        case .double(let d): return PythonJSON.floatRepr(d)
        case .string(let s): return s
        case .array, .object: return pythonJSON()
        }
    }
}

extension Character {
    var isASCIIDigitChar: Bool { ("0"..."9").contains(self) }
}

extension String {
    func trimmingWhitespace() -> String {
        var u = Substring.UnicodeScalarView(unicodeScalars)
        while let f = u.first, f.properties.isWhitespace { u.removeFirst() }
        while let l = u.last, l.properties.isWhitespace { u.removeLast() }
        return String(String.UnicodeScalarView(u))
    }
}

/// The subset of Python `ast.literal_eval` that maps to JSON: str (both quote styles), int, float,
/// True/False/None, lists, tuples and dicts with string keys.
struct PythonLiteral {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var depth = 0

    static func parse(_ text: String) -> JSONValue? {
        var p = PythonLiteral(s: Array(text.unicodeScalars))
        p.ws()
        guard let v = p.value() else { return nil }
        p.ws()
        return p.i == p.s.count ? v : nil
    }

    private init(s: [Unicode.Scalar]) { self.s = s }

    private mutating func ws() { while i < s.count, s[i] == " " || s[i] == "\t" || s[i] == "\n" || s[i] == "\r" { i += 1 } }

    private mutating func word(_ w: String) -> Bool {
        let u = Array(w.unicodeScalars)
        guard i + u.count <= s.count, Array(s[i..<i + u.count]) == u else { return false }
        if i + u.count < s.count, s[i + u.count].properties.isAlphabetic || s[i + u.count] == "_" { return false }
        i += u.count
        return true
    }

    private mutating func value() -> JSONValue? {
        guard i < s.count, depth < 64 else { return nil }
        let c = s[i]
        if word("True") { return .bool(true) }
        if word("False") { return .bool(false) }
        if word("None") { return .null }
        if c == "'" || c == "\"" { return string() }
        if c == "[" || c == "(" { return sequence(close: c == "[" ? "]" : ")") }
        if c == "{" { return dict() }
        return number()
    }

    private mutating func sequence(close: Unicode.Scalar) -> JSONValue? {
        depth += 1; defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        while true {
            ws()
            if i < s.count, s[i] == close { i += 1; return .array(items) }
            guard let v = value() else { return nil }
            items.append(v)
            ws()
            guard i < s.count else { return nil }
            if s[i] == "," { i += 1; continue }
            if s[i] == close { i += 1; return .array(items) }
            return nil
        }
    }

    private mutating func dict() -> JSONValue? {
        depth += 1; defer { depth -= 1 }
        i += 1
        var o = JSONObject()
        while true {
            ws()
            if i < s.count, s[i] == "}" { i += 1; return .object(o) }
            guard case .string(let k)? = value() else { return nil }
            ws()
            guard i < s.count, s[i] == ":" else { return nil }
            i += 1; ws()
            guard let v = value() else { return nil }
            o[k] = v   // a repeated key keeps its first position and takes the last value, as in Python
            ws()
            guard i < s.count else { return nil }
            if s[i] == "," { i += 1; continue }
            if s[i] == "}" { i += 1; return .object(o) }
            return nil
        }
    }

    private mutating func string() -> JSONValue? {
        let q = s[i]
        i += 1
        var out = String.UnicodeScalarView()
        while i < s.count {
            let c = s[i]
            i += 1
            if c == q { return .string(String(out)) }
            if c == "\n" { return nil }
            guard c == "\\", i < s.count else { out.append(c); continue }
            let e = s[i]
            i += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\", "'", "\"": out.append(e)
            case "\n": break
            default: out.append("\\"); out.append(e)
            }
        }
        return nil
    }

    private mutating func number() -> JSONValue? {
        let start = i
        if i < s.count, s[i] == "-" || s[i] == "+" { i += 1 }
        while i < s.count, ("0"..."9").contains(s[i]) || s[i] == "." || s[i] == "e" || s[i] == "E" || s[i] == "_" ||
                ((s[i] == "-" || s[i] == "+") && (s[i - 1] == "e" || s[i - 1] == "E")) { i += 1 }
        var text = String(String(String.UnicodeScalarView(s[start..<i])).filter { $0 != "_" })
        guard !text.isEmpty, text.contains(where: { $0.isASCIIDigitChar }) else { return nil }
        if text.hasPrefix("+") { text.removeFirst() }
        if !text.contains("."), !text.lowercased().contains("e") {
            // Python rejects leading zeros in integer literals ("007"), except for zero itself.
            let body = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            if body.count > 1, body.hasPrefix("0"), body.contains(where: { $0 != "0" }) { return nil }
            return Int(text).map(JSONValue.int) ?? .bigInt(text)
        }
        return Double(text).map(JSONValue.double)
    }
}
