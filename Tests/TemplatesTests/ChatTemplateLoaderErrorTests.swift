import Foundation
@testable import Templates
import Testing

/// Issue 19: a chat template that does not parse must say which file it came from (and where
/// in the template), since a model folder can hold it in three places and `--chat-template`
/// names a fourth.
@Suite("Chat template loader errors")
struct ChatTemplateLoaderErrorTests {
    static let broken = "{{ bos_token }}\n{% for m in messages %}\n{{ m.content }\n{% endfor %}"

    /// A fresh folder holding `files`, removed by the caller.
    static func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tpl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
    }

    /// The syntax error loading `dir` gives, whose origin must be `origin` and whose message
    /// must start with it.
    static func expectSyntaxError(_ dir: URL, override: URL? = nil, origin: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ChatTemplateLoader.load(modelDirectory: dir, overrideFile: override)
            Issue.record("loaded", sourceLocation: sourceLocation)
        } catch let error as TemplateError {
            #expect(error.kind == .syntax && error.origin == origin, sourceLocation: sourceLocation)
            #expect(error.line == 3, "\(error)", sourceLocation: sourceLocation)
            #expect("\(error)".hasPrefix("\(origin): template syntax error (line 3): "), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a TemplateError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("chat_template.jinja")
    func jinjaFile() throws {
        let dir = try Self.folder(["chat_template.jinja": Self.broken])
        defer { try? FileManager.default.removeItem(at: dir) }
        Self.expectSyntaxError(dir, origin: dir.appendingPathComponent("chat_template.jinja").path)
    }

    @Test("tokenizer_config.json's chat_template, string and named-list forms")
    func tokenizerConfig() throws {
        let dir = try Self.folder(["tokenizer_config.json": try Self.json(["chat_template": Self.broken])])
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("tokenizer_config.json").path
        Self.expectSyntaxError(dir, origin: "\(config) \"chat_template\"")
        try Data(try Self.json(["chat_template": [["name": "default", "template": Self.broken]]]).utf8)
            .write(to: dir.appendingPathComponent("tokenizer_config.json"))
        Self.expectSyntaxError(dir, origin: "\(config) \"chat_template\" entry \"default\"")
    }

    @Test("chat_template.json")
    func chatTemplateJSON() throws {
        let dir = try Self.folder(["chat_template.json": try Self.json(["chat_template": Self.broken])])
        defer { try? FileManager.default.removeItem(at: dir) }
        Self.expectSyntaxError(dir, origin: "\(dir.appendingPathComponent("chat_template.json").path) \"chat_template\"")
    }

    @Test("an override file (glm --chat-template) is named instead of the folder's template")
    func overrideFile() throws {
        let dir = try Self.folder(["chat_template.jinja": "fine", "mine.jinja": Self.broken])
        defer { try? FileManager.default.removeItem(at: dir) }
        let override = dir.appendingPathComponent("mine.jinja")
        Self.expectSyntaxError(dir, override: override, origin: override.path)
    }

    @Test("a missing override file is named")
    func missingOverride() throws {
        let dir = try Self.folder([:])
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.jinja")
        #expect {
            try ChatTemplateLoader.load(modelDirectory: dir, overrideFile: missing)
        } throws: { error in
            "\(error)".hasPrefix("\(missing.path): cannot read the chat template")
        }
    }

    @Test("only a folder without any template is 'not found'; a broken template file is not")
    func notFoundVersusBroken() throws {
        let dir = try Self.folder([:])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try ChatTemplateLoader.load(modelDirectory: dir) } throws: { error in
            (error as? ChatTemplateLoaderError)?.isNotFound == true
        }
        try Data("{\"chat_template\": ".utf8).write(to: dir.appendingPathComponent("chat_template.json"))
        #expect { try ChatTemplateLoader.load(modelDirectory: dir) } throws: { error in
            guard let e = error as? ChatTemplateLoaderError else { return false }
            return !e.isNotFound && e.message.hasPrefix(dir.appendingPathComponent("chat_template.json").path)
        }
        try Data(try Self.json(["chat_template": [["name": "tool_use", "template": "T"]]]).utf8)
            .write(to: dir.appendingPathComponent("chat_template.json"))
        #expect { try ChatTemplateLoader.load(modelDirectory: dir) } throws: { error in
            guard let e = error as? ChatTemplateLoaderError else { return false }
            return !e.isNotFound && e.message.contains("no chat template named 'default'") && e.message.contains("chat_template.json")
        }
    }

    @Test("a template compiled from source alone has no origin, as before")
    func sourceOnly() {
        #expect(throws: TemplateError.self) { try ChatTemplate(source: Self.broken) }
        do { _ = try ChatTemplate(source: Self.broken) } catch let error as TemplateError {
            #expect(error.origin == nil && "\(error)".hasPrefix("template syntax error (line 3)"))
        } catch {
            Issue.record("\(error)")
        }
    }
}
