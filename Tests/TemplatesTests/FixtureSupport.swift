import Foundation
import OrderedJSON
@testable import Templates
import Testing

/// Locates checked-in fixtures relative to this file, so tests work from any clone location
/// (CI clones elsewhere, with `shared/` beside the repository).
enum Fixtures {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let templates = repoRoot.appendingPathComponent("Tests/Fixtures/templates")

    static func text(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    static func json(_ url: URL) throws -> JSONValue {
        try JSONValue.parse(data: try Data(contentsOf: url))
    }

    static func templateSource(_ id: String) throws -> String {
        if id == "glm-4.5" { return try text(shared.appendingPathComponent("glm45/chat_template.jinja")) }
        return try text(templates.appendingPathComponent("templates/\(id).jinja"))
    }

    /// The instant make_fixtures.py pins `strftime_now` to, in local time.
    static let fixedNow: Date = {
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour, c.minute, c.second) = (2024, 7, 26, 9, 30, 0)
        return Calendar.current.date(from: c)!
    }()

    static func objectEntries(_ v: JSONValue?) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (k, x) in v?.objectValue?.entries ?? [] { out[k] = x }
        return out
    }
}

/// Renders one fixture case (`variables` or `openai` mode) the way the Swift server would.
struct FixtureCase {
    let name: String
    let json: JSONValue

    var expected: String? { json["expected"]?.stringValue }
    var expectedError: String? { json["error"]?.stringValue }

    func render(source: String) throws -> String {
        var template = try ChatTemplate(source: source)
        template.now = { Fixtures.fixedNow }
        if json["mode"]?.stringValue == "openai" {
            let tools = json["tools"]?.arrayValue
            return try template.render(messages: json["messages"]?.arrayValue ?? [], tools: tools,
                                       addGenerationPrompt: json["add_generation_prompt"] == .bool(true),
                                       extra: Fixtures.objectEntries(json["extra"]))
        }
        return try template.render(variables: Fixtures.objectEntries(json["variables"]))
    }

    /// nil when the Swift result agrees with jinja2's (same text, or both fail the same way).
    func mismatch(source: String) -> String? {
        do {
            let out = try render(source: source)
            if let expected, out == expected { return nil }
            if let expectedError { return "\(name): jinja2 raised \(expectedError), Swift rendered \(out.debugDescription)" }
            return "\(name):\n  expected \(expected!.debugDescription)\n  got      \(out.debugDescription)"
        } catch let e as TemplateError {
            if expectedError == "syntax", e.kind == .syntax { return nil }
            if expectedError == "render", e.kind != .syntax { return nil }
            return "\(name): unexpected \(e) (jinja2: \(expectedError ?? "ok"))"
        } catch {
            if expectedError == "render" { return nil }
            return "\(name): unexpected \(error) (jinja2: \(expectedError ?? "ok"))"
        }
    }
}

func loadCases(_ file: String) throws -> [FixtureCase] {
    let all = try Fixtures.json(Fixtures.templates.appendingPathComponent(file)).arrayValue ?? []
    return all.map { FixtureCase(name: $0["name"]?.stringValue ?? "?", json: $0) }
}
