import Foundation
import OrderedJSON

/// Python's text formatting rules for numbers and strings, which chat-template output must match.
enum PyFormat {
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
    static func dumps(_ v: Value, _ o: PythonJSON.Options) throws -> String {
        var out = ""
        PythonJSON.write(try json(v), into: &out, options: o)
        return out
    }

    /// The JSON value `json.dumps` sees; throws for what it cannot serialize, as Python does.
    private static func json(_ v: Value) throws -> JSONValue {
        switch v {
        case .none: return .null
        case .undefined: throw TemplateError.runtime("Object of type Undefined is not JSON serializable")
        case .callable, .loop, .namespace: throw TemplateError.runtime("Object of type \(v.typeName) is not JSON serializable")
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let a), .tuple(let a): return .array(try a.map(json))
        case .dict(let d):
            var o = JSONObject()
            for e in d.entries { o[try key(e.key)] = try json(e.value) }
            return .object(o)
        }
    }

    /// Non-string keys become strings the way `json.dumps` converts them.
    private static func key(_ k: Value) throws -> String {
        switch k {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .none: return "null"
        case .int, .float: return k.pyStr
        default: throw TemplateError.runtime("keys must be str, int, float, bool or None, not \(k.typeName)")
        }
    }
}
