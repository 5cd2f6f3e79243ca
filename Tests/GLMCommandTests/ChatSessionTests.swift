import Foundation
import Kernels
import Models
import OrderedJSON
import Sampling
import Templates
import Testing
@testable import glm

/// `glm chat` on the `server_tiny` fixture, whose greedy answers to the conversations in
/// `server_golden.json` are known (Tools/fixtures/make_fixtures.py trained it on them).
enum ChatFixture {
    static let directory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models/server_tiny")

    static let model: GLM4MoEModel = try! GLM4MoEModel(directory: directory, backend: CPUBackend(threads: 2))

    /// The golden tools (get_weather, get_time, ping), key order kept.
    static let tools: [JSONValue] = {
        let json = try! JSONValue.parse(data: Data(contentsOf: directory.appendingPathComponent("server_golden.json")))
        return json["tools"]!.arrayValue!
    }()

    static func session(_ adjust: (inout ChatSession.Settings) -> Void = { _ in }) throws -> ChatSession {
        var settings = ChatSession.Settings()
        adjust(&settings)
        return try ChatSession(model: model, directory: directory, settings: settings)
    }
}

@Suite("glm chat: input commands")
struct ChatCommandParsingTests {
    typealias C = ChatSession.Command

    @Test("Lines become messages or commands", arguments: [
        ("What is 2+2?", C.message("What is 2+2?")),
        ("  padded  ", .message("padded")),
        ("", .nothing),
        ("   ", .nothing),
        ("/exit", .exit),
        ("/quit", .exit),
        ("/reset", .reset),
        ("/help", .help),
        ("/think on", .think(true)),
        ("/think   off ", .think(false)),
        (#"/tool {"temp": 18}"#, .toolResult(#"{"temp": 18}"#)),
        ("/tool 42", .toolResult("42")),
    ])
    func parses(line: String, expected: C) {
        #expect(C.parse(line) == expected)
    }

    @Test("Bad commands say why", arguments: ["/think", "/think maybe", "/tool", "/tool {not json", "/frobnicate", "/exit!"])
    func rejects(line: String) {
        guard case .invalid(let reason) = C.parse(line) else {
            Issue.record("\(line) should be invalid, got \(C.parse(line))")
            return
        }
        #expect(!reason.isEmpty)
    }
}

@Suite("glm chat: conversations on server_tiny", .serialized)
struct ChatSessionTests {
    @Test("Reasoning is marked, the answer follows, and the turn is stored as the server returns it")
    func reasoningTurn() throws {
        let session = try ChatFixture.session()
        let transcript = session.transcript(["What is 2+2?"])
        #expect(transcript == """
            > What is 2+2?
            [thinking] Two plus two equals four.
            The answer is 4.

            """)
        #expect(session.messages == [
            ["role": "user", "content": "What is 2+2?"],
            ["role": "assistant", "content": "The answer is 4.", "reasoning_content": "Two plus two equals four."],
        ])
    }

    @Test("--no-thinking and /think off render enable_thinking=false; /reset keeps the system message")
    func thinkingSwitchAndReset() throws {
        let session = try ChatFixture.session { $0.thinking = false }
        #expect(session.transcript(["What is 2+2?"]) == "> What is 2+2?\nThe answer is 4.\n")
        #expect(session.messages.last == ["role": "assistant", "content": "The answer is 4."])

        let transcript = session.transcript(["/reset", "/think on", "What is 2+2?", "/think off", "/reset", "What is 2+2?",
                                             "/exit", "never read"])
        #expect(transcript == """
            > /reset
            [note] new conversation
            > /think on
            [note] thinking on
            > What is 2+2?
            [thinking] Two plus two equals four.
            The answer is 4.
            > /think off
            [note] thinking off
            > /reset
            [note] new conversation
            > What is 2+2?
            The answer is 4.
            > /exit

            """)
        #expect(session.messages.count == 2)
    }

    @Test("The system message leads the history and survives /reset")
    func systemMessage() throws {
        let session = try ChatFixture.session { $0.system = "Be brief." }
        #expect(session.messages == [["role": "system", "content": "Be brief."]])
        _ = session.transcript(["/think off", "/reset"])
        #expect(session.messages == [["role": "system", "content": "Be brief."]])
        #expect(try session.renderPrompt().hasPrefix("[gMASK]<sop><|system|>\nBe brief."))
    }

    @Test("A tool call is printed, /tool answers it, and the model answers from the result")
    func toolLoop() throws {
        let session = try ChatFixture.session {
            $0.thinking = false
            $0.tools = ChatFixture.tools
        }
        let transcript = session.transcript(["What's the weather in Paris?", #"/tool {"temp": 18, "sky": "cloudy"}"#])
        #expect(transcript == """
            > What's the weather in Paris?
            tool call: get_weather {"city": "Paris"}
            > /tool {"temp": 18, "sky": "cloudy"}
            It is 18 degrees and cloudy in Paris.

            """)
        #expect(session.pendingCalls.isEmpty)
        #expect(session.messages.count == 4)
        guard session.messages.count == 4 else { return }
        let call = session.messages[1]
        #expect(call["role"] == "assistant")
        #expect(call["content"] == .null)
        #expect(call["reasoning_content"] == nil)
        let id = call["tool_calls"]?.arrayValue?.first?["id"]
        #expect(id?.stringValue?.hasPrefix("call_") == true)
        #expect(call["tool_calls"] == [["id": id!, "type": "function",
                                        "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]]])
        #expect(session.messages[2] == ["role": "tool", "tool_call_id": id!, "content": #"{"temp": 18, "sky": "cloudy"}"#])
        #expect(session.messages[3] == ["role": "assistant", "content": "It is 18 degrees and cloudy in Paris."])
    }

    @Test("Reasoning before a tool call is shown and kept as reasoning_content")
    func reasoningThenToolCall() throws {
        let session = try ChatFixture.session { $0.tools = ChatFixture.tools }
        let transcript = session.transcript(["What's the weather in Paris?"])
        #expect(transcript == """
            > What's the weather in Paris?
            [thinking] The user wants the weather in Paris.
            tool call: get_weather {"city": "Paris", "unit": "celsius"}

            """)
        #expect(session.messages.last?["reasoning_content"] == "The user wants the weather in Paris.")
        #expect(session.pendingCalls.map(\.name) == ["get_weather"])
    }

    @Test("/tool without a pending call is refused; a turn that cannot run leaves the history alone")
    func refusals() throws {
        let session = try ChatFixture.session()
        #expect(session.transcript([#"/tool {"a": 1}"#]) == "> /tool {\"a\": 1}\n[note] no tool call is waiting for a result\n")
        #expect(session.messages.isEmpty)

        let long = String(repeating: "word ", count: 3000)
        let transcript = session.transcript([long])
        #expect(transcript.contains("[note] error: the conversation ("), "\(transcript)")
        #expect(transcript.contains("fills the model's context of 2048 tokens"))
        #expect(session.messages.isEmpty)
    }

    @Test("An answer cut off by --max-tokens says so and is kept")
    func maxTokens() throws {
        let session = try ChatFixture.session { $0.maxTokens = 3 }
        // Three tokens of "\n<think>Two plus…": cut off inside the reasoning.
        let cut = session.transcript(["What is 2+2?"])
        #expect(cut.hasSuffix("[note] stopped after 3 tokens (--max-tokens)\n"), "\(cut)")
        #expect(session.messages.count == 2)
    }
}

@Suite("glm chat: terminal output")
struct ChatPrinterTests {
    @Test("On a terminal the reasoning is dim and the styles are reset before the answer")
    func terminal() {
        var out = ""
        let printer = ChatPrinter(style: .terminal) { out += $0 }
        printer.reasoning("Two plus")
        printer.reasoning(" two.")
        printer.content("Four.")
        printer.toolCall(name: "f", arguments: "{}")
        printer.endLine()
        #expect(out == "\u{1B}[2;3mTwo plus two.\u{1B}[0m\nFour.\n\u{1B}[33mtool call:\u{1B}[0m f {}\n")
    }

    @Test("Plain output marks every reasoning line")
    func plainMultiline() {
        var out = ""
        let printer = ChatPrinter(style: .plain) { out += $0 }
        printer.reasoning("one\ntwo")
        printer.content("answer")
        printer.endLine()
        printer.notice("a\nb")
        #expect(out == "[thinking] one\n[thinking] two\nanswer\n[note] a\n[note] b\n")
    }
}

@Suite("glm chat and serve: command lines")
struct CommandLineTests {
    @Test("--model-path is optional")
    func optionalModelPath() throws {
        #expect(try ChatCommand.parse([]).model.modelPath == nil)
        #expect(try ChatCommand.parse(["--model-path", "/m", "--no-thinking", "--tools", "t.json", "--system", "S",
                                       "--max-tokens", "7", "--temperature", "0.5", "--seed", "3"]).maxTokens == 7)
        #expect(throws: (any Error).self) { try ChatCommand.parse(["--max-tokens", "0"]) }
        #expect(try GenerateCommand.parse(["--prompt", "Hi", "--max-tokens", "1"]).model.modelPath == nil)
        #expect(try RenderCommand.parse(["--messages", "m.json"]).modelPath == nil)
        #expect(try TokenizeCommand.parse(["--text", "Hi"]).modelPath == nil)
        #expect(try DetokenizeCommand.parse(["--ids", "1"]).modelPath == nil)
    }

    @Test("serve without --model-path is served as glm-4.5-demo; with it, as before")
    func serveNames() throws {
        let demo = URL(fileURLWithPath: "/opt/demo")
        let bare = try ServeCommand.parse([]).serverConfiguration(demoDirectory: demo)
        #expect(bare.modelPath == "/opt/demo")
        #expect(bare.modelName == "glm-4.5-demo")
        let named = try ServeCommand.parse(["--served-model-name", "x"]).serverConfiguration(demoDirectory: demo)
        #expect(named.modelName == "x")
        let given = try ServeCommand.parse(["--model-path", "zai-org/GLM-4.5-Air"]).serverConfiguration()
        #expect(given.modelName == "zai-org/GLM-4.5-Air")
    }

    @Test("--chunked-prefill-size -1 turns chunking off, as in SGLang")
    func chunkedPrefillOff() throws {
        #expect(try ServeCommand.parse(["--chunked-prefill-size", "-1"]).engineOptions.chunkedPrefillSize == nil)
        #expect(try ServeCommand.parse(["--chunked-prefill-size", "256"]).engineOptions.chunkedPrefillSize == 256)
        #expect(try ServeCommand.parse([]).engineOptions.chunkedPrefillSize == 512)
        #expect(try BenchCommand.parse(["--scenario", "interference", "--chunked-prefill-size", "-1"]).chunkedPrefillSize == -1)
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--concurrency", "4,x"]) }
    }

    @Test("--speculative-* flags: SGLang's 3/1/4 chain, the step count, or the verified tokens set the drafts per round")
    func speculativeFlags() throws {
        func drafts(_ flags: [String]) throws -> Int { try ServeCommand.parse(flags).engineOptions.speculativeDraftTokens }
        #expect(try drafts([]) == 0)
        #expect(try drafts(["--speculative-algorithm", "EAGLE"]) == 3)
        let sglang = ["--speculative-algorithm", "EAGLE", "--speculative-num-steps", "3", "--speculative-eagle-topk", "1",
                      "--speculative-num-draft-tokens", "4"]
        #expect(try drafts(sglang) == 3)
        #expect(try ServeCommand.parse(sglang).notes.isEmpty)
        #expect(try drafts(["--speculative-algorithm", "nextn", "--speculative-num-steps", "1"]) == 1)
        #expect(try drafts(["--speculative-algorithm", "MTP", "--speculative-num-draft-tokens", "3"]) == 2)
        let tree = try ServeCommand.parse(["--speculative-algorithm", "EAGLE", "--speculative-num-steps", "2",
                                           "--speculative-eagle-topk", "4", "--speculative-num-draft-tokens", "8"])
        #expect(tree.notes.count == 2, "\(tree.notes)")
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--speculative-algorithm", "NGRAM"]) }
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--speculative-algorithm", "EAGLE", "--speculative-num-steps", "0"]) }
        #expect(try BenchCommand.parse(["--speculative-algorithm", "EAGLE", "--speculative-num-steps", "2"]).speculative.numSteps == 2)
    }

    @Test("--tokenizer-path must name the --model-path folder, and needs one")
    func tokenizerPath() throws {
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--tokenizer-path", "/m"]) }
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--model-path", "/m", "--tokenizer-path", "/other"]) }
        _ = try ServeCommand.parse(["--model-path", "/m", "--tokenizer-path", "/m/"])
        _ = try ServeCommand.parse(["--model-path", "zai-org/GLM-4.5-Air", "--tokenizer-path", "zai-org/GLM-4.5-Air"])
    }
}
