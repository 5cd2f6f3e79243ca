import Engine
import Foundation
import Hummingbird
import Logging
import Models
import NIOCore
import NIOEmbedded
import HummingbirdTesting
@testable import Server
import Testing

/// Issue 19's "Seen" list through the routes: each request gets the right 4xx (or a 500 that
/// says nothing of the internals) and the server goes on serving.
@Suite("Hostile requests")
struct HostileRequestTests {
    static let user = #"{"role": "user", "content": "Hi"}"#
    static let noThinking = #""chat_template_kwargs": {"enable_thinking": false}"#

    /// The schema sent through each API that takes one, with the field it is named by there.
    static func schemaRequests(_ schema: String) -> [(uri: String, body: String, param: String)] {
        [("/v1/chat/completions",
          #"{"messages": [\#(user)], "max_tokens": 4, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": \#(schema)}}}"#,
          "response_format.json_schema.schema"),
         ("/v1/responses", #"{"input": "Hi", "max_output_tokens": 4, "text": {"format": {"type": "json_schema", "name": "x", "schema": \#(schema)}}}"#,
          "text.format"),
         ("/v1/messages", #"{"max_tokens": 4, "messages": [\#(user)], "output_config": {"format": {"type": "json_schema", "schema": \#(schema)}}}"#,
          "output_config.format")]
    }

    static func error(_ r: JSONResult) -> (message: String, param: String?) {
        let e = r.error ?? (r.object["error"] as? [String: Any]) ?? [:]
        return (e["message"] as? String ?? "", e["param"] as? String)
    }

    @Test("left-recursive schemas are 400s on every API, and the server goes on", arguments: [
        ##"{"$ref": "#"}"##, ##"{"anyOf": [{"$ref": "#"}, {"$ref": "#"}]}"##,
        ##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}"##,
    ])
    func leftRecursiveSchemas(schema: String) async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            for (uri, body, param) in Self.schemaRequests(schema) {
                let r = try await client.postJSON(uri, body)
                #expect(r.status == .badRequest, "\(uri): \(r.text)")
                let e = Self.error(r)
                #expect(e.message.contains("refers back to itself"), "\(uri): \(r.text)")
                if uri != "/v1/messages" { #expect(e.param == param, "\(uri): \(r.text)") }
            }
            let ok = try await client.postJSON("/v1/chat/completions", #"{"messages": [\#(Self.user)], "max_tokens": 2}"#)
            #expect(ok.status == .ok)
        }
    }

    @Test("an Int64-wide integer bound and 2^20 paths of references compile and generate")
    func expensiveLookingSchemas() async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            for schema in [#"{"type": "integer", "maximum": 9223372036854775807}"#, HostileSchemaTests.doublingChain] {
                for (uri, body, _) in Self.schemaRequests(schema) {
                    let r = try await client.postJSON(uri, body)
                    #expect(r.status == .ok, "\(uri): \(r.text)")
                }
            }
        }
    }

    @Test("a schema beyond the compile budget is a 400 that says so")
    func overBudget() async throws {
        let (app, _) = ServerFixture.app({ $0.schemaBudget.maxNodes = 100 })
        let wide = #"{"anyOf": ["# + (0..<200).map { #"{"const": \#($0)}"# }.joined(separator: ", ") + "]}"
        try await app.test(.router) { client in
            let r = try await client.postJSON(Self.schemaRequests(wide)[0].uri, Self.schemaRequests(wide)[0].body)
            #expect(r.status == .badRequest && Self.error(r).message.contains("more than 100 grammar nodes"), "\(r.text)")
        }
    }

    @Test("json_object with top_logprobs 20: masked tokens are left out and every logprob is finite, whole or streamed")
    func logprobsUnderConstraint() async throws {
        let (app, _) = ServerFixture.app()
        let body = #"{"messages": [\#(Self.user)], \#(Self.noThinking), "max_tokens": 6, "logprobs": true, "top_logprobs": 20, "response_format": {"type": "json_object"}"#
        try await app.test(.router) { client in
            let whole = try await client.postJSON("/v1/chat/completions", body + "}")
            #expect(whole.status == .ok, "\(whole.text)")
            let content = (whole.choices.first?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]] ?? []
            #expect(!content.isEmpty)
            for entry in content {
                let top = entry["top_logprobs"] as? [[String: Any]] ?? []
                #expect(top.count <= 20)
                #expect(top.allSatisfy { (($0["logprob"] as? Double) ?? -.infinity) > -9999 }, "a masked token is listed")
                #expect((entry["logprob"] as? Double).map { $0.isFinite && $0 > -9999 } == true)
            }
            let streamed = SSEEvents(try await client.post("/v1/chat/completions", body + #", "stream": true}"#))
            #expect(streamed.endsWithDone)
            #expect(!streamed.chunks.contains { $0["error"] != nil }, "\(streamed.events)")
        }
    }

    /// An engine whose requests fail with an error the server knows nothing about.
    final class BrokenEngine: InferenceEngine, @unchecked Sendable {
        struct SecretInternalFailure: Error {}
        let model: GLM4MoEModel
        init(model: GLM4MoEModel) { self.model = model }
        func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
            AsyncThrowingStream { $0.finish(throwing: SecretInternalFailure()) }
        }
    }

    @Test("a 500 says 'internal error' with a request id, never the error itself; a stream ends with an error and [DONE]")
    func internalErrors() async throws {
        let broken = try ServingModel.load(directory: ServerFixture.directory, configuration: ServerFixture.configuration()) {
            BrokenEngine(model: $0)
        }
        let (app, _) = ServerFixture.app(model: broken)
        try await app.test(.router) { client in
            let r = try await client.postJSON("/v1/chat/completions", #"{"messages": [\#(Self.user)]}"#)
            #expect(r.status == .internalServerError)
            #expect(r.errorMessage.contains("request id req-") && !r.text.contains("SecretInternalFailure"), "\(r.text)")
            let s = try await client.post("/v1/chat/completions", #"{"messages": [\#(Self.user)], "stream": true}"#)
            let events = SSEEvents(s)
            #expect(events.endsWithDone)
            let failure = events.chunks.last { $0["error"] != nil }?["error"] as? [String: Any]
            #expect((failure?["message"] as? String)?.contains("request id req-") == true, "\(events.events)")
            #expect(!String(buffer: s.body).contains("SecretInternalFailure"))
            let m = try await client.post("/v1/messages", #"{"max_tokens": 4, "messages": [\#(Self.user)], "stream": true}"#)
            let text = String(buffer: m.body)
            #expect(text.contains("event: error") && !text.contains("SecretInternalFailure"), "\(text)")
        }
    }

    @Test("with --api-key only exactly /health and /metrics are open; /health_generate needs the key")
    func authSurface() async throws {
        let (app, _) = ServerFixture.app({ $0.apiKey = "sk-secret" })
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
            for path in ["/health_generate", "/healthz", "/health/../v1/models", "/metricsx"] {
                #expect(try await client.execute(uri: path, method: .get).status == .unauthorized, "\(path)")
            }
            let keyed = try await client.execute(uri: "/health_generate", method: .get, headers: [.authorization: "Bearer sk-secret"])
            #expect(keyed.status == .ok)
        }
    }

    @Test("/v1/models does not show where the model lives")
    func noPaths() async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            for uri in ["/v1/models", "/v1/models/\(ServerFixture.modelName)"] {
                let r = JSONResult(try await client.execute(uri: uri, method: .get))
                #expect(r.status == .ok && !r.text.contains(ServerFixture.directory.path) && !r.text.contains("Fixtures"), "\(r.text)")
            }
        }
    }

    @Test("a byte order mark, a raw NUL and a lone surrogate are treated alike on every route")
    func encodings() async throws {
        let (app, _) = ServerFixture.app()
        let routes = [("/v1/chat/completions", #"{"messages": [CONTENT], "max_tokens": 1}"#),
                      ("/v1/messages", #"{"max_tokens": 1, "messages": [CONTENT]}"#),
                      ("/v1/responses", #"{"max_output_tokens": 1, "input": [CONTENT]}"#),
                      ("/tokenize", #"{"messages": [CONTENT]}"#)]
        @Sendable func body(_ template: String, _ content: String) -> String {
            template.replacingOccurrences(of: "CONTENT", with: #"{"role": "user", "content": "\#(content)"}"#)
        }
        try await app.test(.router) { client in
            for (uri, template) in routes {
                let bom = try await client.postJSON(uri, "\u{FEFF}" + body(template, "Hi"))
                #expect(bom.status == .badRequest && bom.errorMessage.contains("byte order mark"), "\(uri): \(bom.text)")
                let nul = try await client.postJSON(uri, body(template, "a\u{0}b"))
                #expect(nul.status == .badRequest && nul.errorMessage.contains("control character"), "\(uri): \(nul.text)")
                let surrogate = try await client.postJSON(uri, body(template, #"\ud800"#))
                #expect(surrogate.status == .ok, "\(uri): \(surrogate.text)")
            }
        }
    }

    @Test("numbers that are not what a field takes, and deep nesting, are named as such", arguments: [
        (#""max_tokens": 1.5"#, "max_tokens"), (#""max_tokens": 9223372036854775808"#, "max_tokens"),
        (#""n": 99999999999999999999999"#, "n"), (#""best_of": 2"#, "best_of"), (#""user": 5"#, "user"),
        (#""store": "x""#, "store"), (#""seed": 1e400"#, nil),
    ] as [(String, String?)])
    func fieldValues(field: String, param: String?) async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            let r = try await client.postJSON("/v1/chat/completions", #"{"messages": [\#(Self.user)], \#(field)}"#)
            #expect(r.status == .badRequest, "\(r.text)")
            if let param { #expect(Self.error(r).param == param, "\(r.text)") }
            #expect(!r.errorMessage.contains("not valid JSON") || param == nil, "\(r.text)")
        }
    }

    @Test("a schema nested past the parser's depth says so, not 'not valid JSON'")
    func deepSchema() async throws {
        let (app, _) = ServerFixture.app()
        let deep = String(repeating: #"{"type": "array", "items": "#, count: 600) + "{}" + String(repeating: "}", count: 600)
        try await app.test(.router) { client in
            let r = try await client.postJSON(Self.schemaRequests(deep)[0].uri, Self.schemaRequests(deep)[0].body)
            #expect(r.status == .badRequest && r.errorMessage.contains("512 levels deep") && !r.errorMessage.contains("not valid"),
                    "\(r.text)")
            let shallower = String(repeating: #"{"type": "array", "items": "#, count: 220) + "{}" + String(repeating: "}", count: 220)
            let s = try await client.postJSON(Self.schemaRequests(shallower)[0].uri, Self.schemaRequests(shallower)[0].body)
            #expect(s.status == .badRequest && s.errorMessage.contains("nested more than 200"), "\(s.text)")
        }
    }

    @Test("translated APIs name their own fields in errors, and check what they used to pass over", arguments: [
        ("/v1/messages", #"{"max_tokens": 4, "messages": [USER], "stop_sequences": [\#((0..<65).map { "\"s\($0)\"" }.joined(separator: ","))]}"#,
         "stop_sequences"),
        ("/v1/messages", #"{"max_tokens": 4, "messages": [USER], "tools": [{"name": "f", "input_schema": 5}]}"#, "tools[0].input_schema"),
        ("/v1/messages", #"{"max_tokens": 4, "messages": [USER], "tools": [{"name": "f"}]}"#, "tools[0].input_schema"),
        ("/v1/messages", #"{"max_tokens": 4, "messages": [USER], "thinking": {"type": "enabled", "budget_tokens": -1}}"#,
         "thinking.budget_tokens"),
        ("/v1/responses", #"{"input": []}"#, "input"),
        ("/v1/responses", #"{"input": "Hi", "reasoning": {"effort": "bogus"}}"#, "reasoning.effort"),
        ("/v1/responses", #"{"input": "Hi", "store": "x"}"#, "store"),
        ("/v1/responses", #"{"input": "Hi", "user": 5}"#, "user"),
    ])
    func translatedFieldNames(uri: String, body: String, param: String) async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            let r = try await client.postJSON(uri, body.replacingOccurrences(of: "USER", with: Self.user))
            #expect(r.status == .badRequest, "\(r.text)")
            let e = Self.error(r)
            #expect(e.param == param || (uri == "/v1/messages" && e.message.contains(param)), "\(r.text)")
            #expect(!e.message.contains("'messages'") || uri != "/v1/responses", "\(r.text)")
        }
    }

    @Test("503s say when to retry")
    func retryAfter() async throws {
        let (app, _) = ServerFixture.app(phase: .loading)
        try await app.test(.router) { client in
            let r = try await client.postJSON("/v1/chat/completions", #"{"messages": [\#(Self.user)]}"#)
            #expect(r.status == .serviceUnavailable && r.headers[.retryAfter] == "1")
        }
    }

    @Test("a whole answer holding more logprob entries than the server keeps is refused, not buffered")
    func heldLogprobs() async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            let r = try await client.postJSON("/v1/chat/completions",
                                              #"{"messages": [\#(Self.user)], "n": 128, "max_tokens": 1000, "logprobs": true, "top_logprobs": 20}"#)
            #expect(r.status == .badRequest && Self.error(r).param == "top_logprobs", "\(r.text)")
            let c = try await client.postJSON("/v1/completions", #"{"prompt": "Hi", "n": 128, "max_tokens": 1000, "logprobs": 20}"#)
            #expect(c.status == .badRequest && Self.error(c).param == "logprobs", "\(c.text)")
        }
    }
}

@Suite("A client that goes away")
struct ClientGoneTests {
    @Test("the context sees the connection close; a test client's never-opened channel never counts as gone")
    func connection() async throws {
        let channel = NIOAsyncTestingChannel()
        let unopened = ServerRequestContext(source: .init(channel: channel, logger: Logger(label: "test")))
        try await channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9)).get()
        let open = ServerRequestContext(source: .init(channel: channel, logger: Logger(label: "test")))
        #expect(!open.clientIsGone && !open.clientGone())
        try await channel.close()
        #expect(open.clientIsGone && open.clientGone())
        #expect(!unopened.clientIsGone)
    }

    @Test("planning a request with a JSON schema stops when the client is gone")
    func planning() throws {
        let body = Data(#"{"messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}}"#.utf8)
        #expect(throws: CancellationError.self) {
            try ChatPlan.make(body: body, model: ServerFixture.model, configuration: ServerFixture.configuration(), clientGone: { true })
        }
        _ = try ChatPlan.make(body: body, model: ServerFixture.model, configuration: ServerFixture.configuration(), clientGone: { false })
    }
}
