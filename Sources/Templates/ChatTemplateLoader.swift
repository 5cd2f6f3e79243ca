import Foundation
import OrderedJSON

/// Finds a model's chat template the way HF tokenizers do.
///
/// Order: an explicit override file; `chat_template.jinja`; `chat_template.json`
/// (`{"chat_template": …}`); the `chat_template` key of `tokenizer_config.json`, which is either a
/// string or a list of `{"name", "template"}` entries (the one named `name`, default "default").
/// Special tokens from `tokenizer_config.json` become default template variables, as HF passes
/// its `special_tokens_map`.
public enum ChatTemplateLoader {
    public static let specialTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                                          "mask_token", "additional_special_tokens"]

    /// The template, compiled; a syntax error (`TemplateError`) names the file it came from in
    /// its `origin`, with the line within the template.
    public static func load(modelDirectory: URL, overrideFile: URL? = nil, name: String? = nil) throws -> ChatTemplate {
        let (source, origin) = try locate(modelDirectory: modelDirectory, overrideFile: overrideFile, name: name)
        return try compile(source: source, origin: origin, defaultVariables: (try? specialTokens(modelDirectory: modelDirectory)) ?? [:])
    }

    /// Compiles template text; a syntax error names `origin`.
    public static func compile(source: String, origin: String, defaultVariables: [String: JSONValue]) throws -> ChatTemplate {
        do {
            return try ChatTemplate(source: source, defaultVariables: defaultVariables)
        } catch var error as TemplateError {
            error.origin = origin
            throw error
        }
    }

    public static func loadSource(modelDirectory: URL, overrideFile: URL? = nil, name: String? = nil) throws -> String {
        try locate(modelDirectory: modelDirectory, overrideFile: overrideFile, name: name).source
    }

    /// The template text and where it was found, as an error message names it.
    static func locate(modelDirectory: URL, overrideFile: URL?, name: String?) throws -> (source: String, origin: String) {
        if let overrideFile { return (try readText(overrideFile), overrideFile.path) }
        let fm = FileManager.default
        let jinja = modelDirectory.appendingPathComponent("chat_template.jinja")
        if fm.fileExists(atPath: jinja.path) { return (try readText(jinja), jinja.path) }
        for file in ["chat_template.json", "tokenizer_config.json"] {
            let url = modelDirectory.appendingPathComponent(file)
            if fm.fileExists(atPath: url.path), let (template, key) = try templateField(try readJSON(url), name: name, file: url.path) {
                return (template, "\(url.path) \(key)")
            }
        }
        throw ChatTemplateLoaderError("no chat template in \(modelDirectory.path) (looked for chat_template.jinja, " +
                                      "chat_template.json and tokenizer_config.json \"chat_template\")", isNotFound: true)
    }

    /// `bos_token`, `eos_token`, … from `tokenizer_config.json` (string or `{"content": …}` form).
    public static func specialTokens(modelDirectory: URL) throws -> [String: JSONValue] {
        let config = modelDirectory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: config.path), case .object(let o) = try readJSON(config) else { return [:] }
        var out: [String: JSONValue] = [:]
        func content(_ v: JSONValue) -> JSONValue? {
            switch v {
            case .string: return v
            case .object(let t): return t["content"]
            default: return nil
            }
        }
        for key in specialTokenKeys {
            guard let v = o[key] else { continue }
            if case .array(let items) = v { out[key] = .array(items.compactMap(content)) } else if let c = content(v) { out[key] = c }
        }
        return out
    }

    /// The `chat_template` of a JSON file and how to name it: `"chat_template"`, or
    /// `"chat_template" entry "name"` for the list form.
    private static func templateField(_ json: JSONValue, name: String?, file: String) throws -> (String, String)? {
        switch json["chat_template"] {
        case .string(let s)?: return (s, "\"chat_template\"")
        case .array(let list)?:
            let wanted = name ?? "default"
            for entry in list where entry["name"]?.stringValue == wanted {
                if let t = entry["template"]?.stringValue { return (t, "\"chat_template\" entry \"\(wanted)\"") }
            }
            let names = list.compactMap { $0["name"]?.stringValue }
            throw ChatTemplateLoaderError("\(file): no chat template named '\(wanted)' (available: \(names.joined(separator: ", ")))")
        default: return nil
        }
    }

    public static func readText(_ url: URL) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ChatTemplateLoaderError("\(url.path): cannot read the chat template: \(error.localizedDescription)")
        }
        guard let s = String(data: data, encoding: .utf8) else { throw ChatTemplateLoaderError("\(url.path) is not UTF-8") }
        return s
    }

    private static func readJSON(_ url: URL) throws -> JSONValue {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ChatTemplateLoaderError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        do { return try JSONValue.parse(data: data) } catch {
            throw ChatTemplateLoaderError("\(url.path): \(error)")
        }
    }
}

public struct ChatTemplateLoaderError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The folder has no template at all (as opposed to one that cannot be read or chosen).
    public let isNotFound: Bool
    public init(_ message: String, isNotFound: Bool = false) {
        self.message = message
        self.isNotFound = isNotFound
    }
    public var description: String { message }
}
