import Foundation
import OrderedJSON

/// Decodes request DTOs from an already parsed `JSONValue`, so that every endpoint reads JSON
/// with one parser, and a number that does not fit its field (`max_tokens: 1.5`, `n: 10^23`)
/// is an error naming that field. Foundation's `JSONDecoder` reports those as "not valid JSON"
/// with no field, and would parse the body a second time.
struct JSONValueDecoder {
    func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch([String: Any].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedContainer(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self, value, codingPath) }
        return UnkeyedContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleValue(value: value, codingPath: codingPath) }
}

/// What a value is, for "expected …, got …" messages.
private func kind(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool: "a boolean"
    case .int, .bigInt, .double: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
}

private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [CodingKey]) -> DecodingError {
    if case .null = value {
        return .valueNotFound(type, .init(codingPath: path, debugDescription: "expected a value, got null"))
    }
    return .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected \(type), got \(kind(value))"))
}

/// Scalars: numbers are converted only when the value fits the type exactly.
private func scalar<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [CodingKey]) throws -> T {
    func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
        let bad = DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "expected an integer that fits in "
                                                    + "\(I.bitWidth) bits, got \(value.compactJSON)"))
        switch value {
        case .int(let n): guard let v = I(exactly: n) else { throw bad }; return v
        case .double(let x): guard x.isFinite, let v = I(exactly: x) else { throw bad }; return v
        case .bigInt(let text): guard let v = I(text) else { throw bad }; return v
        default: throw mismatch(type, value, path)
        }
    }
    func floating() throws -> Double {
        switch value {
        case .int(let n): return Double(n)
        case .bigInt(let text): return Double(text) ?? .nan
        case .double(let x):
            guard x.isFinite else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "expected a finite number"))
            }
            return x
        default: throw mismatch(type, value, path)
        }
    }
    switch type {
    case is String.Type:
        guard case .string(let s) = value else { throw mismatch(type, value, path) }
        return s as! T
    case is Bool.Type:
        guard case .bool(let b) = value else { throw mismatch(type, value, path) }
        return b as! T
    case is Int.Type: return try integer(Int.self) as! T
    case is Int64.Type: return try integer(Int64.self) as! T
    case is Int32.Type: return try integer(Int32.self) as! T
    case is UInt64.Type: return try integer(UInt64.self) as! T
    case is UInt.Type: return try integer(UInt.self) as! T
    case is UInt32.Type: return try integer(UInt32.self) as! T
    case is UInt8.Type: return try integer(UInt8.self) as! T
    case is Double.Type: return try floating() as! T
    case is Float.Type: return Float(try floating()) as! T
    default: return try T(from: ValueDecoder(value: value, codingPath: path))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [CodingKey]

    var allKeys: [Key] { object.entries.compactMap { Key(stringValue: $0.key) } }
    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { if case .null = try value(key) { return true }; return false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try scalar(type, try value(key), codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try ValueDecoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { ValueDecoder(value: .object(object), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { ValueDecoder(value: try value(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [CodingKey]
    var currentIndex = 0

    init(items: [JSONValue], codingPath: [CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    private var path: [CodingKey] { codingPath + [AnyKey(intValue: currentIndex)] }

    private func current<T>(_ type: T.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "the array has no more values"))
        }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard case .null = try current(Never.self) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let v = try scalar(type, try current(type), path)
        currentIndex += 1
        return v
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let c = try ValueDecoder(value: try current(type), codingPath: path).container(keyedBy: type)
        currentIndex += 1
        return c
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let c = try ValueDecoder(value: try current([Any].self), codingPath: path).unkeyedContainer()
        currentIndex += 1
        return c
    }

    mutating func superDecoder() throws -> Decoder {
        let d = ValueDecoder(value: try current(Any.self), codingPath: path)
        currentIndex += 1
        return d
    }
}

private struct SingleValue: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [CodingKey]
    func decodeNil() -> Bool { if case .null = value { return true }; return false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try scalar(type, value, codingPath) }
}
