import OrderedJSON

/// A tool the model may call, reduced to what argument typing needs: its name and the JSON
/// schema of its parameters.
public struct ToolSpec: Sendable {
    public let name: String
    public let parameters: JSONValue?

    public init(name: String, parameters: JSONValue?) {
        self.name = name
        self.parameters = parameters
    }

    /// Reads an OpenAI `tools` array (`[{"type": "function", "function": {...}}]`).
    public static func list(fromOpenAITools tools: [JSONValue]) -> [ToolSpec] {
        tools.compactMap { t in
            let f = t["function"] ?? t
            guard let name = f["name"]?.stringValue else { return nil }
            return ToolSpec(name: name, parameters: f["parameters"])
        }
    }

    /// The JSON type of argument `key` as SGLang's `get_argument_type` infers it, or nil when the
    /// tool or the property is unknown.
    public func argumentType(_ key: String) -> String? {
        guard let schema = ToolSpec.properties(parameters)[key] else { return nil }
        return ToolSpec.inferType(schema)
    }

    /// Direct `properties`, plus those declared in `anyOf`/`oneOf`/`allOf` branches.
    static func properties(_ schema: JSONValue?) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        guard let schema else { return out }
        for key in ["anyOf", "oneOf", "allOf"] {
            if case .array(let branches)? = schema[key] {
                for b in branches { for (k, v) in properties(b) where out[k] == nil { out[k] = v } }
            }
        }
        if case .object(let props)? = schema["properties"] { for (k, v) in props.entries { out[k] = v } }
        return out
    }

    /// SGLang `infer_type_from_json_schema`: `type` (first non-null of a list), then
    /// anyOf/oneOf (string wins a mix), enum value types, allOf, `properties` → object,
    /// `items` → array.
    static func inferType(_ schema: JSONValue) -> String? {
        guard case .object = schema else { return nil }
        switch schema["type"] {
        case .string(let t)?: return t
        case .array(let ts)? where !ts.isEmpty:
            return ts.compactMap(\.stringValue).first { $0 != "null" } ?? "string"
        default: break
        }
        for key in ["anyOf", "oneOf"] {
            guard case .array(let subs)? = schema[key] else { continue }
            let types = subs.compactMap(inferType)
            if types.isEmpty { break }
            let unique = Set(types)
            if unique.count == 1 { return types[0] }
            if unique.count == 2 && unique.contains("null") { return types.first { $0 != "null" } }
            return unique.contains("string") ? "string" : types[0]
        }
        if case .array(let values)? = schema["enum"] {
            if values.isEmpty { return "string" }
            var kinds = Set<String>()
            for v in values {
                switch v {
                case .null: kinds.insert("null")
                case .bool: kinds.insert("boolean")
                case .int, .bigInt: kinds.insert("integer")
                case .double: kinds.insert("number")
                case .string: kinds.insert("string")
                case .array: kinds.insert("array")
                case .object: kinds.insert("object")
                }
            }
            return kinds.count == 1 ? kinds.first : "string"
        }
        if case .array(let subs)? = schema["allOf"] {
            for s in subs { if let t = inferType(s), t != "null" { return t } }
        }
        if schema["properties"] != nil { return "object" }
        if schema["items"] != nil { return "array" }
        return nil
    }
}
