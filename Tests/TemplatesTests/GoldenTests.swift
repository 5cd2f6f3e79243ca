import Foundation
import Testing
@testable import Templates

/// Byte-exact comparisons with prompts rendered by jinja2 3.1.6 configured like HF.
@Suite("Chat template goldens")
struct GoldenTests {
    @Test("shared/glm45/golden/rendered: all cases byte-exact")
    func sharedGoldens() throws {
        let dir = Fixtures.shared.appendingPathComponent("glm45/golden/rendered")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".input.json") }.sorted()
        #expect(inputs.count == 6)
        let template = try ChatTemplate(source: try Fixtures.templateSource("glm-4.5"))
        for input in inputs {
            let vars = Fixtures.objectEntries(try Fixtures.json(dir.appendingPathComponent(input)))
            let expected = try Fixtures.text(dir.appendingPathComponent(input.replacingOccurrences(of: ".input.json", with: ".txt")))
            let out = try template.render(variables: vars)
            #expect(out == expected, "\(input)")
        }
    }

    @Test("continue_final_message leaves the final message open exactly as transformers does")
    func continueFinalMessage() throws {
        let fixture = try Fixtures.json(Fixtures.templates.appendingPathComponent("continue_final_message.json"))
        let cases = fixture["cases"]?.arrayValue ?? []
        #expect(cases.count == 11)
        let template = try ChatTemplate(source: try Fixtures.templateSource("glm-4.5"))
        for c in cases {
            let prompt = try template.render(messages: c["messages"]?.arrayValue ?? [], tools: c["tools"]?.arrayValue,
                                             addGenerationPrompt: false, continueFinalMessage: true,
                                             extra: Fixtures.objectEntries(c["chat_template_kwargs"]))
            #expect(prompt == c["prompt"]?.stringValue, "\(c["name"]?.stringValue ?? "?")")
        }
        #expect(throws: ChatInputError.self) {
            try template.render(messages: cases[0]["messages"]?.arrayValue ?? [], addGenerationPrompt: true,
                                continueFinalMessage: true)
        }
    }

    @Test("interpreter probes match jinja2 (output or error)")
    func jinjaProbes() throws {
        let cases = try loadCases("jinja_cases.json")
        #expect(cases.count > 80)
        var failures: [String] = []
        for c in cases {
            if let m = c.mismatch(source: c.json["template"]?.stringValue ?? "") { failures.append(m) }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) differ:\n\(failures.prefix(15).joined(separator: "\n"))")
    }

    @Test("real chat templates (GLM-4.5/4.6/4.7-Flash, Qwen3, Llama 3.2) on chosen conversations")
    func chatCases() throws {
        let cases = try loadCases("chat_cases.json")
        var failures: [String] = []
        var sources: [String: String] = [:]
        for c in cases {
            let id = c.json["template"]?.stringValue ?? ""
            if sources[id] == nil { sources[id] = try Fixtures.templateSource(id) }
            if let m = c.mismatch(source: sources[id]!) { failures.append(m) }
        }
        #expect(Set(sources.keys) == ["glm-4.5", "glm-4.6", "glm-4.7-flash", "qwen3", "llama-3.2"])
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) differ:\n\(failures.prefix(10).joined(separator: "\n"))")
    }

    @Test("nai-tok snapshots that match the official template")
    func naiTok() throws {
        let cases = try loadCases("chat_cases.json").filter { $0.json["nai_tok"] != nil }
        #expect(cases.count == 13)
        let source = try Fixtures.templateSource("glm-4.5")
        for c in cases {
            let snap = try Fixtures.text(Fixtures.shared.appendingPathComponent("glm45/golden/nai-tok/\(c.json["nai_tok"]!.stringValue!)"))
            // insta header between two "---" lines, then the text plus one newline.
            let body = snap.components(separatedBy: "---\n").dropFirst(2).joined(separator: "---\n")
            #expect(try c.render(source: source) == String(body.dropLast()), "\(c.name)")
        }
    }

    @Test("seeded random conversations render exactly as jinja2 renders them")
    func randomConversations() throws {
        let cases = try loadCases("random_glm45.json")
        #expect(cases.count >= 200)
        var failures: [String] = []
        var sources: [String: String] = [:]
        for c in cases {
            let id = c.json["template"]?.stringValue ?? ""
            if sources[id] == nil { sources[id] = try Fixtures.templateSource(id) }
            if let m = c.mismatch(source: sources[id]!) { failures.append(m) }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) differ:\n\(failures.prefix(8).joined(separator: "\n"))")
    }
}
