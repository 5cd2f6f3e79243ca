@testable import Constraints
import Foundation
import Hummingbird
import HummingbirdTesting
import OrderedJSON
@testable import Server
import Templates
import Testing

/// `/v1/chat/completions` end to end through the real engine, sampler, template, tokenizer and
/// output parsers on the `server_tiny` checkpoint (greedy unless stated).
@Suite("Chat completions")
struct ChatRouteTests {
    let golden = ServerFixture.golden

    func chat(_ name: String, _ extra: [String: JSONValue] = [:], adjust: (inout ServerConfiguration) -> Void = { _ in })
        async throws -> JSONResult {
        let (app, _) = ServerFixture.app(adjust)
        let body = requestJSON(golden.conversation(name).request, ["temperature": 0, "model": .string(ServerFixture.modelName)]
            .merging(extra) { $1 })
        return try await app.test(.router) { client in try await client.postJSON("/v1/chat/completions", body) }
    }

    func chatStream(_ name: String, _ extra: [String: JSONValue] = [:]) async throws -> SSEEvents {
        let (app, _) = ServerFixture.app()
        let body = requestJSON(golden.conversation(name).request, ["temperature": 0, "stream": true].merging(extra) { $1 })
        return try await app.test(.router) { client in
            let response = try await client.post("/v1/chat/completions", body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            return SSEEvents(response)
        }
    }

    @Test("the server renders and tokenizes each golden request exactly as transformers does")
    func promptIds() async throws {
        let (app, _) = ServerFixture.app()
        for c in golden.conversations {
            let r = try await app.test(.router) { client in try await client.postJSON("/tokenize", requestJSON(c.request)) }
            #expect(r.status == .ok, "\(c.name): \(r.text)")
            #expect(r.object["tokens"] as? [Int] == c.prompt_ids, "\(c.name): prompt ids differ from transformers'")
        }
    }

    @Test("thinking on: reasoning_content and content split by the glm45 reasoning parser")
    func reasoning() async throws {
        let r = try await chat("reasoning")
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.message["reasoning_content"] as? String == "Two plus two equals four.")
        #expect(r.message["content"] as? String == "The answer is 4.")
        #expect(r.message["role"] as? String == "assistant")
        #expect(r.choices.first?["finish_reason"] as? String == "stop")
        #expect(r.object["object"] as? String == "chat.completion")
        #expect((r.object["id"] as? String)?.hasPrefix("chatcmpl-") == true)
        #expect(r.object["model"] as? String == ServerFixture.modelName)
        let c = golden.conversation("reasoning")
        #expect(r.usage["prompt_tokens"] as? Int == c.prompt_ids.count)
        #expect(r.usage["completion_tokens"] as? Int == c.completion_ids.count)
        #expect(r.usage["total_tokens"] as? Int == c.prompt_ids.count + c.completion_ids.count)
    }

    @Test("thinking off (enable_thinking false): no reasoning_content")
    func noThinking() async throws {
        let r = try await chat("no_thinking")
        #expect(r.message["content"] as? String == "The answer is 4.")
        #expect(r.message["reasoning_content"] is NSNull)
    }

    @Test("response_format json_object: the content is one JSON object (after the reasoning when thinking is on)")
    func jsonObjectFormat() async throws {
        // The tiny model never closes a string by itself; a bias towards `"` and `}` lets the
        // object end, so that the stop after it is checked too.
        let tokenizer = ServerFixture.model.tokenizer
        let quote = tokenizer.encode("\""), close = tokenizer.encode("}")
        try #require(quote.count == 1 && close.count == 1)
        for (name, bias) in [("reasoning", false), ("no_thinking", false), ("no_thinking", true), ("tool_call", true)] {
            var extra: [String: JSONValue] = ["response_format": ["type": "json_object"], "max_tokens": 60]
            if bias { extra["logit_bias"] = .object(JSONObject([("\(quote[0])", 60), ("\(close[0])", 30)])) }
            let r = try await chat(name, extra)
            #expect(r.status == .ok, "\(r.text)")
            let content = r.message["content"] as? String ?? ""
            var json = JSONObjectPrefix()
            #expect(content.utf8.allSatisfy { json.feed($0) }, "\(name): \(content)")
            if bias {
                #expect(r.choices.first?["finish_reason"] as? String == "stop", "\(name): \(content)")
                #expect((try? JSONValue.parse(content))?.objectValue != nil, "\(name): \(content)")
            }
        }
    }

    @Test("response_format json_schema: the content follows the schema, whatever the model prefers")
    func jsonSchemaFormat() async throws {
        // Finite choices only, so every output must close the object within a few tokens.
        let schema: JSONValue = try JSONValue.parse(#"""
            {"type": "object", "additionalProperties": false, "required": ["ok", "unit"],
             "properties": {"ok": {"type": "boolean"}, "unit": {"enum": ["celsius", "fahrenheit"]},
                            "note": {"type": "null"}}}
            """#)
        for name in ["reasoning", "no_thinking", "tool_call"] {
            let format: JSONValue = ["type": "json_schema", "json_schema": ["name": "reading", "schema": schema]]
            let r = try await chat(name, ["response_format": format, "max_tokens": 200])  // white space is bounded per gap
            #expect(r.status == .ok, "\(r.text)")
            let content = r.message["content"] as? String ?? ""
            #expect(r.choices.first?["finish_reason"] as? String == "stop", "\(name): \(content)")
            let object = try #require(try? JSONValue.parse(content).objectValue, "\(name): \(content)")
            #expect(Set(object.keys).isSuperset(of: ["ok", "unit"]) && Set(object.keys).isSubset(of: ["ok", "unit", "note"]),
                    "\(name): \(content)")
            #expect(object["ok"]?.boolValue != nil, "\(name): \(content)")
            #expect(["celsius", "fahrenheit"].contains(object["unit"]?.stringValue ?? ""), "\(name): \(content)")
            if name == "reasoning" { #expect(r.message["reasoning_content"] as? String == "Two plus two equals four.") }
        }
    }

    @Test("separate_reasoning false keeps the think block in content")
    func reasoningNotSeparated() async throws {
        let r = try await chat("reasoning", ["separate_reasoning": false])
        // As SGLang: the raw text, untrimmed.
        #expect(r.message["content"] as? String == "\n<think>Two plus two equals four.</think>\nThe answer is 4.")
        #expect(r.message["reasoning_content"] is NSNull)
    }

    @Test("without --reasoning-parser / --tool-call-parser the raw text is the content")
    func noParsers() async throws {
        let r = try await chat("reasoning_tool_call", adjust: { $0.reasoningParser = nil; $0.toolCallParser = nil })
        let c = golden.conversation("reasoning_tool_call")
        #expect(r.message["content"] as? String == String(c.completion.dropLast("<|observation|>".count)))
        #expect(r.message["tool_calls"] == nil)
        #expect(r.choices.first?["finish_reason"] as? String == "stop")
    }

    @Test("a tool call parsed into tool_calls with finish_reason tool_calls")
    func toolCall() async throws {
        let r = try await chat("tool_call")
        #expect(r.status == .ok, "\(r.text)")
        let calls = r.message["tool_calls"] as? [[String: Any]] ?? []
        #expect(calls.count == 1)
        let f = calls.first?["function"] as? [String: Any]
        #expect(f?["name"] as? String == "get_weather")
        #expect(jsonObject(f?["arguments"] as? String ?? "") == ["city": "Paris"])
        #expect((calls.first?["id"] as? String)?.hasPrefix("call_") == true)
        #expect(calls.first?["type"] as? String == "function")
        #expect(r.message["content"] is NSNull)
        #expect(r.choices.first?["finish_reason"] as? String == "tool_calls")
    }

    @Test("reasoning then a tool call")
    func reasoningToolCall() async throws {
        let r = try await chat("reasoning_tool_call")
        #expect(r.message["reasoning_content"] as? String == "The user wants the weather in Paris.")
        let f = (r.message["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any]
        #expect(f?["name"] as? String == "get_weather")
        #expect(jsonObject(f?["arguments"] as? String ?? "") == ["city": "Paris", "unit": "celsius"])
        #expect(r.choices.first?["finish_reason"] as? String == "tool_calls")
    }

    @Test("history with an assistant tool call (arguments as a JSON string) and a tool result")
    func toolResult() async throws {
        let r = try await chat("tool_result")
        #expect(r.message["content"] as? String == "It is 18 degrees and cloudy in Paris.")
        #expect(r.message["tool_calls"] == nil)
    }

    @Test("tool_choice none: tools are not rendered and not parsed")
    func toolChoiceNone() async throws {
        let r = try await chat("tool_call", ["tool_choice": "none", "max_tokens": 8])
        #expect(r.status == .ok)
        #expect(r.message["tool_calls"] == nil)
        #expect(r.usage["prompt_tokens"] as? Int ?? 0 < golden.conversation("tool_call").prompt_ids.count)
    }

    @Test("tool_choice required is enforced and the model picks the function")
    func toolChoiceRequired() async throws {
        let r = try await chat("tool_call", ["tool_choice": "required"])
        let f = (r.message["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any]
        #expect(f?["name"] as? String == "get_weather")
        #expect(jsonObject(f?["arguments"] as? String ?? "") == ["city": "Paris"])
        #expect(r.choices.first?["finish_reason"] as? String == "tool_calls")
    }

    @Test("tool_choice required with thinking on: free reasoning, then the forced call")
    func toolChoiceRequiredAfterThinking() async throws {
        let r = try await chat("reasoning_tool_call", ["tool_choice": "required"])
        #expect(r.message["reasoning_content"] as? String == "The user wants the weather in Paris.")
        let f = (r.message["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any]
        #expect(f?["name"] as? String == "get_weather")
    }

    @Test("a named tool_choice forces that function even where the model would call another")
    func toolChoiceNamed() async throws {
        let r = try await chat("tool_call", ["tool_choice": ["type": "function", "function": ["name": "get_time"]],
                                             "max_tokens": 40])
        let calls = r.message["tool_calls"] as? [[String: Any]] ?? []
        #expect(calls.count == 1)
        let f = calls.first?["function"] as? [String: Any]
        #expect(f?["name"] as? String == "get_time")
        #expect((f?["arguments"] as? String)?.hasPrefix("{\"timezone\": ") == true, "\(f ?? [:])")
    }

    @Test("a named function without parameters: a complete call with {} and finish_reason tool_calls")
    func toolChoiceNamedNoArguments() async throws {
        let r = try await chat("tool_call", ["tool_choice": ["type": "function", "function": ["name": "ping"]]])
        let f = (r.message["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any]
        #expect(f?["name"] as? String == "ping")
        #expect(f?["arguments"] as? String == "{}")
        #expect(r.choices.first?["finish_reason"] as? String == "tool_calls")
    }

    @Test("parallel_tool_calls: several forced calls when allowed, exactly one when not")
    func parallelToolCalls() async throws {
        // A logit bias on "\n" makes the model start another call after each </tool_call> when the
        // grammar allows one.
        let newline = ServerFixture.model.tokenizer.encode("\n")[0]
        let ping: JSONValue = [["type": "function", "function": ["name": "ping", "parameters": ["type": "object", "properties": [:]]]]]
        let base: JSONValue = ["messages": [["role": "user", "content": "Ping it."]], "tools": ping]
        let (app, _) = ServerFixture.app()
        for (parallel, stream) in [(true, false), (false, false), (true, true)] {
            let body = requestJSON(base, ["tool_choice": "required", "parallel_tool_calls": .bool(parallel), "max_tokens": 40,
                                          "logit_bias": [String(newline): 30], "temperature": 0, "stream": .bool(stream),
                                          "chat_template_kwargs": ["enable_thinking": false]])
            let names: [String] = try await app.test(.router) { client in
                let response = try await client.post("/v1/chat/completions", body)
                if stream { return SSEEvents(response).toolCalls().map(\.name) }
                let calls = JSONResult(response).message["tool_calls"] as? [[String: Any]] ?? []
                return calls.compactMap { ($0["function"] as? [String: Any])?["name"] as? String }
            }
            if parallel {
                #expect(names.count > 1 && names.allSatisfy { $0 == "ping" }, "\(names)")
            } else {
                #expect(names == ["ping"])
            }
        }
    }

    @Test("streaming: role first, reasoning and content deltas, finish chunk, usage chunk, [DONE]")
    func streamReasoning() async throws {
        let events = try await chatStream("reasoning", ["stream_options": ["include_usage": true]])
        #expect(events.endsWithDone)
        let deltas = events.deltas()
        #expect(deltas.first?["role"] as? String == "assistant")
        #expect(events.text("reasoning_content") == "Two plus two equals four.")
        #expect(events.text("content") == "The answer is 4.")
        #expect(events.finishReason() == "stop")
        let ids = Set(events.chunks.compactMap { $0["id"] as? String })
        #expect(ids.count == 1, "one id for the whole stream")
        #expect(events.chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let last = events.chunks.last!
        #expect((last["choices"] as? [Any])?.isEmpty == true)
        let usage = last["usage"] as? [String: Any]
        #expect(usage?["completion_tokens"] as? Int == golden.conversation("reasoning").completion_ids.count)
    }

    @Test("streaming tool calls: index, id and name first, then argument fragments")
    func streamToolCall() async throws {
        let events = try await chatStream("reasoning_tool_call")
        #expect(events.text("reasoning_content") == "The user wants the weather in Paris.")
        let calls = events.toolCalls()
        #expect(calls.count == 1)
        #expect(calls.first?.name == "get_weather")
        #expect(calls.first?.id.hasPrefix("call_") == true)
        #expect(jsonObject(calls.first?.arguments ?? "") == ["city": "Paris", "unit": "celsius"])
        let pieces = events.deltas().compactMap { ($0["tool_calls"] as? [[String: Any]])?.first }
        #expect(pieces.first?["id"] != nil && (pieces.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")
        #expect(((pieces.first?["function"] as? [String: Any])?["arguments"] as? String) == "")
        #expect(pieces.dropFirst().allSatisfy { $0["id"] == nil && ($0["function"] as? [String: Any])?["name"] == nil })
        #expect(pieces.count > 2, "arguments arrive in fragments")
        #expect(events.finishReason() == "tool_calls")
        #expect(events.chunks.allSatisfy { $0["usage"] == nil }, "no usage chunk unless asked")
    }

    @Test("a stop string ends generation and never appears, also when split across tokens in a stream")
    func stopStrings() async throws {
        let r = try await chat("reasoning", ["stop": ["answer"]])
        #expect(r.message["content"] as? String == "The")
        #expect(r.message["reasoning_content"] as? String == "Two plus two equals four.")
        #expect(r.choices.first?["finish_reason"] as? String == "stop")
        let events = try await chatStream("no_thinking", ["stop": "swer is"])
        #expect(events.text("content") == "The an")
        #expect(events.finishReason() == "stop")
        let raw = events.deltas().compactMap { $0["content"] as? String }
        #expect(!raw.joined().contains("sw"))
    }

    @Test("stop_token_ids end generation at that token")
    func stopTokenIds() async throws {
        let c = golden.conversation("no_thinking")
        let r = try await chat("no_thinking", ["stop_token_ids": [.int(c.completion_ids[2])]])
        #expect(r.choices.first?["finish_reason"] as? String == "stop")
        #expect(r.usage["completion_tokens"] as? Int == 3)
    }

    @Test("min_tokens holds back stop tokens and stop strings until that many tokens are out")
    func minTokens() async throws {
        let c = golden.conversation("no_thinking")  // "\nThe answer is 4.<|user|>"
        let plain = try await chat("no_thinking", ["max_tokens": 20])
        #expect(plain.usage["completion_tokens"] as? Int == c.completion_ids.count)
        let r = try await chat("no_thinking", ["max_tokens": 20, "min_tokens": 14])
        let n = r.usage["completion_tokens"] as? Int ?? 0
        #expect(n >= 14, "\(r.text)")
        #expect((r.message["content"] as? String)?.hasPrefix("The answer is 4.") == true, "\(r.text)")
        // "swer" comes out in the 4th token, before min_tokens 5: it does not stop the output.
        let late = try await chat("no_thinking", ["max_tokens": 20, "min_tokens": 5, "stop": "swer"])
        #expect((late.message["content"] as? String)?.hasPrefix("The answer is 4.") == true, "\(late.text)")
        let early = try await chat("no_thinking", ["max_tokens": 20, "min_tokens": 3, "stop": "swer"])
        #expect(early.message["content"] as? String == "The an", "\(early.text)")
    }

    @Test("max_tokens cuts with finish_reason length; max_completion_tokens wins over max_tokens")
    func length() async throws {
        let r = try await chat("reasoning", ["max_tokens": 100, "max_completion_tokens": 3])
        #expect(r.choices.first?["finish_reason"] as? String == "length")
        #expect(r.usage["completion_tokens"] as? Int == 3)
    }

    @Test("the same seed and request give the same output; n choices differ and have their indices")
    func seedAndN() async throws {
        let base: JSONValue = ["messages": [["role": "user", "content": "Tell me a joke."]]]
        // The trained model answers any question the same way; ignore_eos lets it run on into untrained
        // (random) territory where sampling shows.
        let body = requestJSON(base, ["temperature": 1.0, "seed": 1234, "max_tokens": 24, "n": 3, "ignore_eos": true])
        let (app, _) = ServerFixture.app()
        let (a, b) = try await app.test(.router) { client in
            (try await client.postJSON("/v1/chat/completions", body), try await client.postJSON("/v1/chat/completions", body))
        }
        #expect(a.choices.count == 3)
        #expect(a.choices.map { $0["index"] as? Int } == [0, 1, 2])
        let texts = a.choices.map { ($0["message"] as? [String: Any])?["content"] as? String ?? "" }
        #expect(texts == b.choices.map { ($0["message"] as? [String: Any])?["content"] as? String ?? "" })
        #expect(Set(texts).count > 1, "choices use different seeds: \(texts)")
        #expect(a.usage["completion_tokens"] as? Int == 72)
    }

    @Test("logprobs with top_logprobs: one entry per token, the greedy token is the top alternative")
    func logprobs() async throws {
        let r = try await chat("no_thinking", ["logprobs": true, "top_logprobs": 3])
        let content = (r.choices.first?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]] ?? []
        #expect(content.count == golden.conversation("no_thinking").completion_ids.count)
        for entry in content {
            let top = entry["top_logprobs"] as? [[String: Any]] ?? []
            #expect(top.count == 3)
            #expect(top.first?["token"] as? String == entry["token"] as? String)
            #expect(abs((top.first?["logprob"] as? Double ?? 1) - (entry["logprob"] as? Double ?? 0)) < 1e-6)
            #expect((entry["logprob"] as? Double ?? 1) <= 0)
            #expect(entry["bytes"] is [Int])
        }
        let plain = try await chat("no_thinking")
        #expect(plain.choices.first?["logprobs"] is NSNull)
    }

    @Test("presence, frequency and repetition penalties and logit_bias change greedy output")
    func penaltiesAndBias() async throws {
        let c = golden.conversation("no_thinking")
        let banned = c.completion_ids[1]
        let r = try await chat("no_thinking", ["logit_bias": [String(banned): -100], "max_tokens": 4])
        let ids = try await tokenize(r.message["content"] as? String ?? "")
        #expect(!ids.contains(banned))
        let p = try await chat("no_thinking", ["presence_penalty": 2, "frequency_penalty": 2, "repetition_penalty": 1.5,
                                               "max_tokens": 10])
        #expect(p.status == .ok)
    }

    func tokenize(_ text: String) async throws -> [Int] {
        let (app, _) = ServerFixture.app()
        return try await app.test(.router) { client in
            try await client.postJSON("/tokenize", requestJSON(["prompt": .string(text)])).object["tokens"] as? [Int] ?? []
        }
    }

    @Test("continue_final_message: the output continues the final assistant message (prefill)")
    func continueFinalMessage() async throws {
        let (app, _) = ServerFixture.app()
        let body = #"{"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "The answer"}], "# +
            #""chat_template_kwargs": {"enable_thinking": false}, "continue_final_message": true, "temperature": 0}"#
        let r = try await app.test(.router) { client in try await client.postJSON("/v1/chat/completions", body) }
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.message["content"] as? String == " is 4.")  // what the model learnt after "The answer", space kept
        #expect(r.choices.first?["finish_reason"] as? String == "stop")
        // The prompt is the conversation up to the open message: the golden prompt plus "\nThe answer".
        let golden = golden.conversation("no_thinking")
        let tokens = try await app.test(.router) { client in
            try await client.postJSON("/tokenize", body).object["tokens"] as? [Int] ?? []
        }
        #expect(r.usage["prompt_tokens"] as? Int == tokens.count)
        #expect(Array(tokens.prefix(golden.prompt_ids.count)) == golden.prompt_ids)
        #expect(Array(tokens.dropFirst(golden.prompt_ids.count)) == Array(golden.completion_ids.prefix(5)))  // \n|The| an|sw|er
    }

    @Test("content given as a list of text parts and a developer message render like strings")
    func contentParts() async throws {
        let (app, _) = ServerFixture.app()
        let parts = #"{"messages": [{"role": "developer", "content": [{"type": "text", "text": "Be brief."}]}, "# +
            #"{"role": "user", "content": [{"type": "text", "text": "What is "}, {"type": "text", "text": "2+2?"}]}], "max_tokens": 2}"#
        let r = try await app.test(.router) { client in try await client.postJSON("/v1/chat/completions", parts) }
        #expect(r.status == .ok, "\(r.text)")
    }
}
