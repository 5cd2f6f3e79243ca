/// The kind of a JSON value, for request fields whose content is open (JSON schemas, template
/// kwargs, tool arguments given as objects): decoding checks the value's type without walking
/// into it, so that arbitrarily nested input costs nothing here. The server reads such fields'
/// content from the raw body with an order-preserving parser.
public enum JSON: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array
    case object

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if (try? decoder.container(keyedBy: AnyKey.self)) != nil { self = .object; return }
        if (try? decoder.unkeyedContainer()) != nil { self = .array; return }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a JSON value") }
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
}

/// A field that is either one value or a list of them (`stop: "x"` or `stop: ["x", "y"]`).
public enum OneOrMany<T: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    case one(T)
    case many([T])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(T.self) { self = .one(v); return }
        if let v = try? c.decode([T].self) { self = .many(v); return }
        throw DecodingError.typeMismatch(T.self, .init(codingPath: decoder.codingPath,
                                                        debugDescription: "expected \(OneOrMany.typeName) or a list of them"))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .one(let v): try c.encode(v)
        case .many(let v): try c.encode(v)
        }
    }

    public var values: [T] {
        switch self {
        case .one(let v): [v]
        case .many(let v): v
        }
    }

    static var typeName: String {
        switch T.self {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        default: "\(T.self)"
        }
    }
}
