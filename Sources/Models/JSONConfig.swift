import Foundation

/// A JSON value, decoded so that booleans, integers and floats stay distinct.
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var text: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
        case .string(let s): "\"\(s)\""
        case .array(let a): "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object: "an object"
        }
    }
}

/// Typed reads from a config file, with errors that name the field and the file.
/// config.json files written by different transformers versions vary (ints written as floats,
/// null for defaults), so reads are lenient about representation and strict about meaning.
struct JSONConfig {
    let object: [String: JSONValue]
    let file: String

    init(url: URL) throws {
        file = url.path
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ModelError.unreadableConfig(file: url.path, reason: "file not found or unreadable")
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let object) = value else {
            throw ModelError.unreadableConfig(file: url.path, reason: "not a JSON object")
        }
        self.object = object
    }

    init(object: [String: JSONValue], file: String) {
        self.object = object
        self.file = file
    }

    func has(_ key: String) -> Bool {
        if let v = object[key], case .null = v { return false }
        return object[key] != nil
    }

    private func invalid(_ key: String, _ expected: String) -> ModelError {
        .invalidField(field: key, file: file, reason: "expected \(expected), found \(object[key]?.text ?? "nothing")")
    }

    func int(_ key: String) throws -> Int? {
        guard has(key) else { return nil }
        guard case .number(let d) = object[key]!, d == d.rounded(), abs(d) < 1e15 else { throw invalid(key, "an integer") }
        return Int(d)
    }

    func int(_ key: String, default value: Int) throws -> Int { try int(key) ?? value }

    func requiredInt(_ key: String) throws -> Int {
        guard let v = try int(key) else { throw ModelError.missingField(field: key, file: file) }
        return v
    }

    func double(_ key: String, default value: Double) throws -> Double {
        guard has(key) else { return value }
        guard case .number(let d) = object[key]! else { throw invalid(key, "a number") }
        return d
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard has(key) else { return value }
        guard case .bool(let b) = object[key]! else { throw invalid(key, "true or false") }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard case .string(let s) = object[key]! else { throw invalid(key, "a string") }
        return s
    }

    func strings(_ key: String) throws -> [String] {
        guard has(key) else { return [] }
        guard case .array(let items) = object[key]! else { throw invalid(key, "a list of strings") }
        return try items.map { item in
            guard case .string(let s) = item else { throw invalid(key, "a list of strings") }
            return s
        }
    }

    /// An int or a list of ints (`eos_token_id` may be either).
    func intList(_ key: String) throws -> [Int] {
        guard has(key) else { return [] }
        if case .array(let items) = object[key]! {
            return try items.map { item in
                guard case .number(let d) = item, d == d.rounded() else { throw invalid(key, "integers") }
                return Int(d)
            }
        }
        return [try requiredInt(key)]
    }

    func object(_ key: String) throws -> JSONConfig? {
        guard has(key) else { return nil }
        guard case .object(let o) = object[key]! else { throw invalid(key, "an object") }
        return JSONConfig(object: o, file: file)
    }
}
