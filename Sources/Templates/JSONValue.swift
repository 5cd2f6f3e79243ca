import Foundation

/// A JSON value whose objects keep their key order.
///
/// Order matters for chat templates: tool schemas and tool-call arguments are written into the
/// prompt with `tojson` / `.items()`, and Python keeps insertion order, so the prompt (and every
/// prefix-cache hit after it) depends on it. `JSONValue.parse` preserves order;
/// `JSONSerialization` and `Codable` dictionaries do not, so prefer `parse` for request bodies.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// An insertion-ordered JSON object. Later duplicates replace the value but keep the first
/// position, as a Python dict built by `json.loads` does.
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(key: String, value: JSONValue)] = []
    private var index: [String: Int] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        for (k, v) in elements { self[k] = v }
    }

    public init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var keys: [String] { entries.map(\.key) }
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public subscript(key: String) -> JSONValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let i = index[key] {
                if let newValue { entries[i].value = newValue } else { remove(key) }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    public mutating func remove(_ key: String) {
        guard let i = index[key] else { return }
        entries.remove(at: i)
        index = [:]
        for (j, e) in entries.enumerated() { index[e.key] = j }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.entries.count == b.entries.count else { return false }
        for (x, y) in zip(a.entries, b.entries) where x.key != y.key || x.value != y.value { return false }
        return true
    }
}

extension JSONValue {
    /// Parses JSON text, keeping object key order and the int/float distinction
    /// (`2` stays an int, `2.0` a float — Python renders them differently).
    public static func parse(_ text: String) throws -> JSONValue {
        var p = JSONTextParser(Array(text.utf8))
        return try p.parseDocument()
    }

    public static func parse(data: Data) throws -> JSONValue {
        var p = JSONTextParser(Array(data))
        return try p.parseDocument()
    }

    /// Converts `JSONSerialization` output (or hand-built `[String: Any]` / `[Any]`).
    /// Dictionary key order is whatever the dictionary yields; `[(String, Any)]` pairs keep theirs.
    public init(any value: Any?) {
        guard let value else { self = .null; return }
        switch value {
        case let v as JSONValue: self = v
        case is NSNull: self = .null
        case let v as String: self = .string(v)
        case let v as NSNumber where !(value is Int) && !(value is Double):
            self = JSONValue.fromNumber(v)
        case let v as Bool: self = .bool(v)
        case let v as Int: self = .int(v)
        case let v as Double: self = .double(v)
        case let v as Float: self = .double(Double(v))
        case let v as [Any?]: self = .array(v.map { JSONValue(any: $0) })
        case let v as [(String, Any?)]: self = .object(JSONObject(v.map { ($0.0, JSONValue(any: $0.1)) }))
        case let v as [String: Any?]: self = .object(JSONObject(v.map { ($0.key, JSONValue(any: $0.value)) }))
        case let v as NSNumber: self = JSONValue.fromNumber(v)
        default: self = .string("\(value)")
        }
    }

    private static func fromNumber(_ n: NSNumber) -> JSONValue {
        let type = String(cString: n.objCType)
        if type == "c" || type == "B" { return .bool(n.boolValue) }
        if type == "d" || type == "f" { return .double(n.doubleValue) }
        return .int(n.intValue)
    }

    /// The value as `JSONSerialization`-compatible Foundation objects (key order is lost).
    public var foundationObject: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationObject)
        case .object(let o):
            var d: [String: Any] = [:]
            for (k, v) in o.entries { d[k] = v.foundationObject }
            return d
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Serializes like Python `json.dumps(x, ensure_ascii=False)`: `", "` and `": "` separators.
    public func pythonJSON(indent: Int? = nil, ensureASCII: Bool = false) -> String {
        var out = ""
        PyJSON.write(Templates.Value(json: self), into: &out, options: .init(indent: indent.map { String(repeating: " ", count: $0) }, ensureASCII: ensureASCII), level: 0)
        return out
    }

    /// Compact JSON (`","`, `":"`), non-ASCII kept: for wire formats.
    public var compactJSON: String {
        var out = ""
        PyJSON.write(Templates.Value(json: self), into: &out, options: .init(itemSeparator: ",", keySeparator: ":"), level: 0)
        return out
    }
}

extension JSONValue: Codable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    public init(from decoder: Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var o = JSONObject()
            for k in keyed.allKeys { o[k.stringValue] = try keyed.decode(JSONValue.self, forKey: k) }
            self = .object(o)
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var a: [JSONValue] = []
            while !list.isAtEnd { a.append(try list.decode(JSONValue.self)) }
            self = .array(a)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .object(let o):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in o.entries { try c.encode(v, forKey: AnyKey(stringValue: k)) }
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for v in a { try c.encode(v) }
        case .null:
            var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i):
            var c = encoder.singleValueContainer(); try c.encode(i)
        case .double(let d):
            var c = encoder.singleValueContainer(); try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer(); try c.encode(s)
        }
    }
}


/// Literals, so tests and callers can write `["role": "user", "content": "Hi"]`.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}
