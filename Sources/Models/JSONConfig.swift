import Foundation
import OrderedJSON

extension JSONValue {
    /// The value as an error message shows it.
    var text: String {
        if case .object = self { return "an object" }
        return pythonJSON()
    }
}

/// Typed reads from a config file, with errors that name the field and the file.
/// config.json files written by different transformers versions vary (ints written as floats,
/// null for defaults), so reads are lenient about representation and strict about meaning.
struct JSONConfig {
    let object: JSONObject
    let file: String

    init(url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ModelError.unreadableConfig(file: url.path, reason: "file not found or unreadable")
        }
        try self.init(data: data, file: url.path)
    }

    init(data: Data, file: String) throws {
        let value: JSONValue
        do { value = try JSONValue.parse(data: data) } catch {
            throw ModelError.unreadableConfig(file: file, reason: "\(error)")
        }
        guard case .object(let object) = value else { throw ModelError.unreadableConfig(file: file, reason: "not a JSON object") }
        self.init(object: object, file: file)
    }

    init(object: JSONObject, file: String) {
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
        guard let i = object[key]!.intValue else { throw invalid(key, "an integer") }
        return i
    }

    func int(_ key: String, default value: Int) throws -> Int { try int(key) ?? value }

    func requiredInt(_ key: String) throws -> Int {
        guard let v = try int(key) else { throw ModelError.missingField(field: key, file: file) }
        return v
    }

    func double(_ key: String, default value: Double) throws -> Double {
        guard has(key) else { return value }
        guard let d = object[key]!.doubleValue else { throw invalid(key, "a number") }
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
                guard let i = item.intValue else { throw invalid(key, "integers") }
                return i
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
