import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Templates
import Testing

/// Every error the server reports, in OpenAI's shape `{"error": {"message", "type", "param", "code"}}`.
@Suite("Errors")
struct ErrorRouteTests {
    static let hello = #"{"role": "user", "content": "Hi"}"#

    func post(_ body: String, uri: String = "/v1/chat/completions", headers: HTTPFields = [:],
              adjust: (inout ServerConfiguration) -> Void = { _ in }, phase: ServerState.Phase? = nil) async throws -> JSONResult {
        let (app, _) = ServerFixture.app(adjust, phase: phase)
        return try await app.test(.router) { client in try await client.postJSON(uri, body, headers: headers) }
    }

    func expectError(_ r: JSONResult, _ status: HTTPResponse.Status, type: String = "invalid_request_error",
                     param: String? = nil, containing: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.error?["type"] as? String == type, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        let e = r.error ?? [:]
        #expect(e.keys.sorted() == ["code", "message", "param", "type"], "\(r.text)", sourceLocation: sourceLocation)
        if let param { #expect(e["param"] as? String == param, "\(r.text)", sourceLocation: sourceLocation) }
        for s in containing { #expect(r.errorMessage.contains(s), "\(r.errorMessage) lacks \(s)", sourceLocation: sourceLocation) }
    }

    @Test("invalid JSON") func invalidJSON() async throws {
        expectError(try await post(#"{"messages": [ "#), .badRequest)
        expectError(try await post(""), .badRequest)
        expectError(try await post("[1, 2]"), .badRequest)
    }

    @Test("wrong types name the field") func wrongTypes() async throws {
        expectError(try await post(#"{"messages": "Hi"}"#), .badRequest, param: "messages")
        expectError(try await post(#"{"messages": [\#(Self.hello)], "temperature": "hot"}"#), .badRequest, param: "temperature")
        expectError(try await post(#"{"messages": [{"role": "user", "content": 5}]}"#), .badRequest, param: "messages[0].content")
        expectError(try await post(#"{"messages": [{"content": "Hi"}]}"#), .badRequest, param: "messages[0].role")
        expectError(try await post(#"{"messages": [\#(Self.hello)], "tool_choice": "sometimes"}"#), .badRequest, param: "tool_choice")
        expectError(try await post(#"{"messages": [\#(Self.hello)], "stream": "yes"}"#), .badRequest, param: "stream")
    }

    @Test("out-of-range values", arguments: [
        (#""temperature": 3"#, "temperature"), (#""top_p": 0"#, "top_p"), (#""top_k": 0"#, "top_k"),
        (#""min_p": 1.5"#, "min_p"), (#""presence_penalty": -3"#, "presence_penalty"),
        (#""frequency_penalty": 9"#, "frequency_penalty"), (#""repetition_penalty": 0"#, "repetition_penalty"),
        (#""n": 0"#, "n"), (#""n": 1000"#, "n"), (#""max_tokens": 0"#, "max_tokens"), (#""max_tokens": -5"#, "max_tokens"),
        (#""logprobs": true, "top_logprobs": 21"#, "top_logprobs"), (#""top_logprobs": 2"#, "top_logprobs"),
        (#""logit_bias": {"99999": 1}"#, "logit_bias"), (#""logit_bias": {"5": 500}"#, "logit_bias"),
        (#""logit_bias": {"x": 1}"#, "logit_bias"), (#""stop_token_ids": [-1]"#, "stop_token_ids"),
        (#""response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"not": {}}}}"#,
         "response_format.json_schema.schema"),
        (#""response_format": {"type": "json_schema", "json_schema": {"name": "x"}}"#, "response_format.json_schema.schema"),
        (#""response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}, "tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f"}}]"#,
         "response_format"),
        (#""response_format": {"type": "yaml"}"#, "response_format.type"),
        (#""min_tokens": -1"#, "min_tokens"), (#""max_tokens": 4, "min_tokens": 5"#, "min_tokens"),
        (#""min_tokens": 2, "response_format": {"type": "json_object"}"#, "min_tokens"),
        (#""response_format": {"type": "json_object"}, "tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f"}}]"#,
         "response_format"),
    ])
    func outOfRange(_ field: String, _ param: String) async throws {
        expectError(try await post(#"{"messages": [\#(Self.hello)], \#(field)}"#), .badRequest, param: param)
    }

    @Test("empty or unusable messages") func emptyMessages() async throws {
        expectError(try await post(#"{"messages": []}"#), .badRequest, param: "messages")
        expectError(try await post(#"{"model": "tiny-glm"}"#), .badRequest, param: "messages")
        expectError(try await post(#"{"messages": [{"role": "wizard", "content": "Hi"}]}"#), .badRequest, param: "messages[0].role")
        expectError(try await post(#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#),
                    .badRequest, param: "messages[0].content")
        expectError(try await post(#"{"messages": [\#(Self.hello)], "continue_final_message": true, "add_generation_prompt": true}"#),
                    .badRequest, param: "continue_final_message", containing: ["add_generation_prompt"])
    }

    @Test("prompt plus max_tokens beyond the context: the message gives both numbers") func contextLength() async throws {
        let r = try await post(#"{"messages": [\#(Self.hello)], "max_tokens": 5000}"#)
        expectError(r, .badRequest, containing: ["2048", "5000"])
        #expect(r.error?["code"] as? String == "context_length_exceeded")
        let long = String(repeating: "word ", count: 3000)
        expectError(try await post(#"{"messages": [{"role": "user", "content": "\#(long)"}]}"#), .badRequest,
                    containing: ["2048"])
        let limited = try await post(#"{"messages": [\#(Self.hello)], "max_tokens": 100}"#, adjust: { $0.contextLength = 64 })
        expectError(limited, .badRequest, containing: ["64", "100"])
    }

    @Test("tools: unknown tool in history, unknown named tool, required without tools, bad arguments")
    func toolErrors() async throws {
        let tools = ServerFixture.golden.tools.compactJSON
        let history = #"[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "launch_rockets", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "ok"}]"#
        expectError(try await post(#"{"messages": \#(history), "tools": \#(tools)}"#), .badRequest,
                    param: "messages[1].tool_calls[0].function.name", containing: ["launch_rockets"])
        expectError(try await post(#"{"messages": [\#(Self.hello)], "tools": \#(tools), "tool_choice": {"type": "function", "function": {"name": "nope"}}}"#),
                    .badRequest, param: "tool_choice")
        expectError(try await post(#"{"messages": [\#(Self.hello)], "tool_choice": "required"}"#), .badRequest, param: "tool_choice")
        let badArgs = #"[{"role": "user", "content": "Hi"}, {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "ping", "arguments": "{not json"}}]}]"#
        expectError(try await post(#"{"messages": \#(badArgs), "tools": \#(tools)}"#), .badRequest)
        expectError(try await post(#"{"messages": [\#(Self.hello)], "tools": [{"type": "function", "function": {"name": ""}}]}"#),
                    .badRequest)
    }

    /// (How long parsing takes is not timed here: tests share two cores. The fuzz harnesses time
    /// every input, Fuzz/smoke.sh.)
    @Test("deeply nested and odd JSON is answered with a 200 or a 400, never a crash") func deepNesting() async throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let nested = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        let bodies = [
            deep, #"{"messages": \#(deep)}"#,
            #"{"messages": [{"role": "user", "content": \#(nested)}]}"#,
            #"{"messages": [\#(Self.hello)], "max_tokens": 1, "chat_template_kwargs": {"x": \#(nested)}}"#,
            #"{"messages": [\#(Self.hello)], "max_tokens": 1, "tool_choice": "required", "tools": [{"type": "function", "#
                + #""function": {"name": "f", "parameters": {"type": "object", "properties": {"a": \#(nested)}}}}]}"#,
            #"{"prompt": \#(nested)}"#,
            #"{"messages": [{"role": "user", "content": "\ud800 lone surrogate"}], "max_tokens": 1}"#,
            #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, "n": 1e400}"#,
        ]
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            for (i, body) in bodies.enumerated() {
                for uri in ["/tokenize", "/detokenize"] {
                    let r = try await client.postJSON(uri, body)
                    #expect(r.status == .ok || r.status == .badRequest, "body \(i) on \(uri): \(r.status)")
                }
                for uri in ["/v1/chat/completions", "/v1/completions"] {
                    let r = try await client.postJSON(uri, body)
                    #expect(r.status == .ok || r.status == .badRequest, "body \(i) on \(uri): \(r.status) \(r.text.prefix(200))")
                }
            }
        }
    }

    @Test("invalid UTF-8") func invalidUTF8() async throws {
        let (app, _) = ServerFixture.app()
        var body = ByteBuffer(string: #"{"messages": [{"role": "user", "content": "a"#)
        body.writeBytes([0xFF, 0xFE, 0xC3])
        body.writeString(#""}]}"#)
        let bytes = body
        let r = try await app.test(.router) { client in
            JSONResult(try await client.execute(uri: "/v1/chat/completions", method: .post, body: bytes))
        }
        expectError(r, .badRequest, containing: ["UTF-8"])
    }

    @Test("401 for a missing or wrong API key; /health and /metrics stay open") func apiKey() async throws {
        let (app, _) = ServerFixture.app({ $0.apiKey = "sk-secret" })
        try await app.test(.router) { client in
            let body = #"{"messages": [\#(Self.hello)], "max_tokens": 1}"#
            let missing = try await client.postJSON("/v1/chat/completions", body)
            expectError(missing, .unauthorized)
            #expect(missing.error?["code"] as? String == "invalid_api_key")
            expectError(try await client.postJSON("/v1/chat/completions", body, headers: [.authorization: "Bearer sk-secreT"]),
                        .unauthorized)
            expectError(try await client.postJSON("/v1/chat/completions", body, headers: [.authorization: "Bearer sk-secret2"]),
                        .unauthorized)
            expectError(JSONResult(try await client.execute(uri: "/v1/models", method: .get)), .unauthorized)
            let ok = try await client.postJSON("/v1/chat/completions", body, headers: [.authorization: "Bearer sk-secret"])
            #expect(ok.status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
        }
        #expect(APIKeyMiddleware.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!APIKeyMiddleware.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!APIKeyMiddleware.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!APIKeyMiddleware.constantTimeEqual([], Array("a".utf8)))
    }

    @Test("404 for an unknown model or route") func notFound() async throws {
        let r = try await post(#"{"model": "gpt-4o", "messages": [\#(Self.hello)]}"#)
        expectError(r, .notFound, param: "model", containing: ["gpt-4o"])
        #expect(r.error?["code"] as? String == "model_not_found")
        expectError(try await post(#"{"model": "gpt-4o", "prompt": "Hi"}"#, uri: "/v1/completions"), .notFound)
        expectError(try await post("{}", uri: "/v1/nothing"), .notFound)
        let (app, _) = ServerFixture.app()
        let r2 = try await app.test(.router) { client in JSONResult(try await client.execute(uri: "/v1/models/gpt-4o", method: .get)) }
        expectError(r2, .notFound)
    }

    @Test("413 for a body over the limit") func tooLarge() async throws {
        let big = #"{"messages": [{"role": "user", "content": "\#(String(repeating: "x", count: 5000))"}]}"#
        let r = try await post(big, adjust: { $0.maxRequestBodyBytes = 4096 })
        expectError(r, .contentTooLarge, containing: ["4096"])
    }

    @Test("503 while the model loads") func loading() async throws {
        let r = try await post(#"{"messages": [\#(Self.hello)]}"#, phase: .loading)
        expectError(r, .serviceUnavailable, type: "unavailable_error")
        let (app, _) = ServerFixture.app(phase: .loading)
        let health = try await app.test(.router) { client in JSONResult(try await client.execute(uri: "/health", method: .get)) }
        expectError(health, .serviceUnavailable, type: "unavailable_error")
    }

    @Test("503 when the queue is full") func queueFull() async throws {
        let r = try await post(#"{"messages": [\#(Self.hello)], "n": 3, "max_tokens": 1}"#,
                               adjust: { $0.maxRunningRequests = 1; $0.maxQueuedRequests = 1 })
        expectError(r, .serviceUnavailable, type: "unavailable_error")
    }

    @Test("errors are counted by status in /metrics") func metricsCountErrors() async throws {
        let (app, _) = ServerFixture.app()
        let text = try await app.test(.router) { client in
            _ = try await client.post("/v1/chat/completions", "{")
            _ = try await client.post("/v1/chat/completions", #"{"messages": [\#(Self.hello)], "max_tokens": 2}"#)
            return String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        }
        #expect(text.contains(#"glm:http_requests_total{endpoint="/v1/chat/completions",status="400"} 1"#), "\(text)")
        #expect(text.contains(#"glm:http_requests_total{endpoint="/v1/chat/completions",status="200"} 1"#))
        #expect(text.contains("glm:generation_tokens_total 2"))
        #expect(text.contains("glm:time_to_first_token_seconds_count 1"))
        #expect(text.contains("glm:inter_token_latency_seconds_count 1"))
        #expect(text.contains("glm:num_running_reqs 0"))
        #expect(text.contains("glm:num_queue_reqs 0"))
        #expect(text.contains("glm:prompt_tokens_total"))
    }
}
