import Foundation
import Hummingbird
import HummingbirdTesting
import OrderedJSON
@testable import Server
import Templates
import Testing

@Suite("Completions, models, health, tokenize, metrics")
struct OtherRouteTests {
    let golden = ServerFixture.golden

    @Test("/v1/completions with a text prompt reproduces the chat continuation; echo and logprobs")
    func textCompletion() async throws {
        let c = golden.conversation("no_thinking")
        let (app, _) = ServerFixture.app()
        let body = requestJSON(["prompt": .string(c.prompt)], ["temperature": 0, "max_tokens": 50, "logprobs": 2])
        let r = try await app.test(.router) { client in try await client.postJSON("/v1/completions", body) }
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.object["object"] as? String == "text_completion")
        let choice = r.choices.first ?? [:]
        // The stop token <|user|> ends generation and is not part of the text.
        #expect(choice["text"] as? String == String(c.completion.dropLast("<|user|>".count)))
        #expect(choice["finish_reason"] as? String == "stop")
        let lp = choice["logprobs"] as? [String: Any] ?? [:]
        #expect((lp["tokens"] as? [String])?.count == c.completion_ids.count)
        #expect((lp["top_logprobs"] as? [[String: Double]])?.allSatisfy { $0.count <= 2 } == true)
        #expect((lp["text_offset"] as? [Int])?.first == 0)
        #expect(r.usage["prompt_tokens"] as? Int == c.prompt_ids.count)

        let echo = requestJSON(["prompt": "Hello"], ["max_tokens": 3, "echo": true, "temperature": 0])
        let e = try await app.test(.router) { client in try await client.postJSON("/v1/completions", echo) }
        #expect((e.choices.first?["text"] as? String)?.hasPrefix("Hello") == true)
        #expect(e.choices.first?["finish_reason"] as? String == "length")
    }

    @Test("/v1/completions with token ids, several prompts and n; default max_tokens 16")
    func tokenPrompts() async throws {
        let c = golden.conversation("no_thinking")
        let (app, _) = ServerFixture.app()
        let ids = JSONValue.array(c.prompt_ids.map { .int($0) })
        let body = requestJSON(["prompt": .array([ids, [1, 2, 3]])], ["temperature": 0, "n": 2, "ignore_eos": true])
        let r = try await app.test(.router) { client in try await client.postJSON("/v1/completions", body) }
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.choices.map { $0["index"] as? Int } == [0, 1, 2, 3])
        // ignore_eos: generation runs on past <|user|> to the default 16 tokens.
        #expect((r.choices[0]["text"] as? String)?.hasPrefix("\nThe answer is 4.<|user|>") == false)
        #expect((r.choices[0]["text"] as? String)?.hasPrefix("\nThe answer is 4.") == true)
        #expect(r.choices[0]["finish_reason"] as? String == "length")
        #expect(r.choices[0]["text"] as? String == r.choices[1]["text"] as? String, "greedy choices agree")
        #expect(r.choices[2]["finish_reason"] as? String == "length")
        #expect(r.usage["prompt_tokens"] as? Int == c.prompt_ids.count + 3)
        let bad = requestJSON(["prompt": [1, 99999]])
        let b = try await app.test(.router) { client in try await client.postJSON("/v1/completions", bad) }
        #expect(b.status == .badRequest)
        #expect(b.error?["param"] as? String == "prompt")
    }

    @Test("streaming completions: text chunks, finish chunk, usage chunk, [DONE]")
    func streamCompletion() async throws {
        let c = golden.conversation("no_thinking")
        let (app, _) = ServerFixture.app()
        let body = requestJSON(["prompt": .string(c.prompt)],
                               ["temperature": 0, "max_tokens": 50, "stream": true, "stream_options": ["include_usage": true],
                                "stop": ["is 4"]])
        let events = try await app.test(.router) { client in SSEEvents(try await client.post("/v1/completions", body)) }
        #expect(events.endsWithDone)
        let choices = events.chunks.flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }
        #expect(choices.compactMap { $0["text"] as? String }.joined() == "\nThe answer ")
        #expect(choices.last?["finish_reason"] as? String == "stop")
        #expect((events.chunks.last?["usage"] as? [String: Any])?["prompt_tokens"] as? Int == c.prompt_ids.count)
    }

    @Test("/health, /v1/models, /v1/models/{id}")
    func healthAndModels() async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            let health = JSONResult(try await client.execute(uri: "/health", method: .get))
            #expect(health.status == .ok)
            #expect(health.object["status"] as? String == "ok")
            #expect(try await client.execute(uri: "/health_generate", method: .get).status == .ok)
            let models = JSONResult(try await client.execute(uri: "/v1/models", method: .get))
            #expect(models.object["object"] as? String == "list")
            let card = (models.object["data"] as? [[String: Any]])?.first ?? [:]
            #expect(card["id"] as? String == ServerFixture.modelName)
            #expect(card["object"] as? String == "model")
            #expect(card["max_model_len"] as? Int == 2048)
            let one = JSONResult(try await client.execute(uri: "/v1/models/\(ServerFixture.modelName)", method: .get))
            #expect(one.object["id"] as? String == ServerFixture.modelName)
        }
    }

    @Test("/tokenize and /detokenize round-trip")
    func tokenize() async throws {
        let (app, _) = ServerFixture.app()
        try await app.test(.router) { client in
            let t = try await client.postJSON("/tokenize", #"{"prompt": "Hello <|user|> world"}"#)
            let tokens = t.object["tokens"] as? [Int] ?? []
            #expect(t.object["count"] as? Int == tokens.count)
            #expect(t.object["max_model_len"] as? Int == 2048)
            #expect(tokens.contains(ServerFixture.model.tokenizer.id(forToken: "<|user|>")!))
            let d = try await client.postJSON("/detokenize", #"{"tokens": \#(tokens)}"#)
            #expect(d.object["prompt"] as? String == "Hello <|user|> world")
            let bad = try await client.postJSON("/detokenize", #"{"tokens": [-4]}"#)
            #expect(bad.status == .badRequest)
            let v1 = try await client.postJSON("/v1/tokenize", #"{"prompt": "Hi"}"#)
            #expect(v1.status == .ok)
        }
    }

    @Test("CORS is off by default: no origin gets Access-Control-Allow-Origin, and a preflight is not answered")
    func corsOff() async throws {
        let (app, _) = ServerFixture.app({ $0.apiKey = "k" })
        try await app.test(.router) { client in
            let preflight = try await client.execute(uri: "/v1/chat/completions", method: .options, headers: [
                .origin: "https://evil.example", .accessControlRequestMethod: "POST"])
            #expect(preflight.headers[.accessControlAllowOrigin] == nil)
            #expect(preflight.status != .noContent && preflight.status != .ok)
            let health = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://evil.example"])
            #expect(health.status == .ok && health.headers[.accessControlAllowOrigin] == nil)
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: [.origin: "https://evil.example"])
            #expect(metrics.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test("--allowed-origins: a listed origin's preflight is answered without the key; others get no CORS headers")
    func corsAllowed() async throws {
        let (app, _) = ServerFixture.app({
            $0.apiKey = "k"
            $0.allowedOrigins = ["https://app.example.com"]
        })
        try await app.test(.router) { client in
            let preflight = try await client.execute(uri: "/v1/chat/completions", method: .options, headers: [
                .origin: "https://app.example.com", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == .noContent || preflight.status == .ok)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.example.com")
            let other = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
        let (any, _) = ServerFixture.app({ $0.allowedOrigins = ["*"] })
        try await any.test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://x.example"])
            #expect(health.headers[.accessControlAllowOrigin] == "https://x.example")
        }
    }

    @Test("/metrics is off unless --enable-metrics")
    func metricsOff() async throws {
        let (app, _) = ServerFixture.app({ $0.enableMetrics = false })
        let r = try await app.test(.router) { client in JSONResult(try await client.execute(uri: "/metrics", method: .get)) }
        #expect(r.status == .notFound)
    }
}
