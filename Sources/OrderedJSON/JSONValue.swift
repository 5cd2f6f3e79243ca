import Foundation

/// A JSON value whose objects keep their key order, with integers and floats kept apart.
///
/// One type for every JSON the engine reads or writes: tokenizer files, configs of chat templates,
/// request bodies, tool schemas and tool-call arguments. Order matters: tool schemas and
/// arguments are written into the prompt with `tojson` / `.items()` and Python keeps insertion
/// order, so the prompt (and every prefix-cache hit after it) depends on it; and `2` and `2.0`
/// render differently in Python. `JSONSerialization` and `Codable` dictionaries keep neither.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`, kept as its digits (Python ints are unbounded).
    case bigInt(String)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue: Equatable {
    /// Structural equality, objects in order; NaN equals NaN (the same text parses equal).
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bigInt(let x), .bigInt(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }
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
        index.reserveCapacity(pairs.count)
        entries.reserveCapacity(pairs.count)
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
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// An integer, also when written as an integral float (`5.0`), as config writers sometimes do.
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: return nil
        }
    }

    /// Any number as a Double.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .bigInt(let s): return Double(s)
        case .double(let d): return d
        default: return nil
        }
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
        case .bigInt(let s): return NSDecimalNumber(string: s)
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationObject)
        case .object(let o):
            var d: [String: Any] = [:]
            for (k, v) in o.entries { d[k] = v.foundationObject }
            return d
        }
    }
}

extension JSONValue: Codable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// Decoding through `Codable` loses key order (the decoder's dictionaries have none); request
    /// bodies go through `JSONValue.parse` instead.
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
        case .bigInt(let s):
            var c = encoder.singleValueContainer(); try c.encode(Decimal(string: s) ?? 0)
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
