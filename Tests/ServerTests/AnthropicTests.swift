import Foundation
import OpenAIAPI
import OrderedJSON
@testable import Server
import Testing

@Suite("Anthropic Messages translation")
struct AnthropicTranslationTests {
    func chat(_ anthropic: String, requireMaxTokens: Bool = true) throws -> JSONValue {
        try AnthropicTranslation.chatRequest(try JSONValue.parse(anthropic), requireMaxTokens: requireMaxTokens)
    }

    @Test("system, text, thinking, tool_use and tool_result blocks, tools and options become a chat request")
    func wholeRequest() throws {
        let got = try chat("""
            {"model": "claude-x", "max_tokens": 64, "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Use tools."}],
             "messages": [
               {"role": "user", "content": "Weather in Paris?"},
               {"role": "assistant", "content": [{"type": "thinking", "thinking": "Call it.", "signature": "x"},
                 {"type": "text", "text": "Checking."}, {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris", "n": 2}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "18 C"}]},
                 {"type": "text", "text": "And tomorrow?"}]}],
             "tools": [{"name": "get_weather", "description": "Weather.", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
             "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
             "stop_sequences": ["END"], "stream": true, "thinking": {"type": "disabled"}, "temperature": 0, "top_k": 5,
             "output_config": {"effort": "low"}, "metadata": {"user_id": "u"}}
            """)
        let want = try JSONValue.parse("""
            {"messages": [{"role": "system", "content": "Be brief.\\nUse tools."},
               {"role": "user", "content": "Weather in Paris?"},
               {"role": "assistant", "content": "Checking.", "reasoning_content": "Call it.",
                "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\",\\"n\\":2}"}}]},
               {"role": "tool", "tool_call_id": "t1", "content": "18 C"},
               {"role": "user", "content": "And tomorrow?"}],
             "max_tokens": 64, "temperature": 0, "top_k": 5, "stop": ["END"], "stream": true, "stream_options": {"include_usage": true},
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
             "tool_choice": "required", "parallel_tool_calls": false, "chat_template_kwargs": {"enable_thinking": false}}
            """)
        #expect(got == want, "\(got.compactJSON)")
    }

    @Test("tool_choice, thinking and structured output forms")
    func options() throws {
        func field(_ request: String, _ key: String) throws -> JSONValue? {
            try chat(#"{"max_tokens": 1, "messages": [{"role": "user", "content": "hi"}], "# + request + "}")[key]
        }
        #expect(try field(#""tool_choice": {"type": "tool", "name": "f"}"#, "tool_choice")
                == ["type": "function", "function": ["name": "f"]])
        #expect(try field(#""tool_choice": {"type": "none"}"#, "tool_choice") == "none")
        #expect(try field(#""tool_choice": {"type": "auto"}"#, "parallel_tool_calls") == nil)
        #expect(try field(#""thinking": {"type": "adaptive"}"#, "chat_template_kwargs") == ["enable_thinking": true])
        #expect(try field(#""output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}"#, "response_format")
                == ["type": "json_schema", "json_schema": ["name": "output", "schema": ["type": "object"]]])
        #expect(try chat(#"{"messages": [{"role": "user", "content": "hi"}]}"#, requireMaxTokens: false)["max_tokens"] == nil)
    }

    @Test("what cannot be translated is a 400 naming the Anthropic field", arguments: [
        (#"{"messages": [{"role": "user", "content": "hi"}]}"#, "max_tokens"),
        (#"{"max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]}"#, "max_tokens"),
        (#"{"max_tokens": 5, "messages": []}"#, "messages"),
        (#"{"max_tokens": 5, "messages": [{"role": "system", "content": "hi"}]}"#, "messages[0].role"),
        (#"{"max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]}"#, "messages[0].content[0].type"),
        (#"{"max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}]}]}"#,
         "messages[0].content[0].type"),
        (#"{"max_tokens": 5, "messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": 3}]}]}"#,
         "messages[0].content[0]"),
        (#"{"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "web_search_20250305", "name": "s"}]}"#,
         "tools[0].type"),
        (#"{"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tool_choice": {"type": "tool"}}"#, "tool_choice.name"),
        (#"{"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "thinking": {"type": "sometimes"}}"#, "thinking.type"),
        (#"{"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "stop_sequences": "END"}"#, "stop_sequences"),
        (#"{"max_tokens": 5, "system": 3, "messages": [{"role": "user", "content": "hi"}]}"#, "system"),
    ])
    func refused(request: String, param: String) throws {
        #expect {
            try chat(request)
        } throws: { error in
            guard let e = error as? APIError else { return false }
            return e.status == 400 && e.param == param
        }
    }

    @Test("errors have Anthropic's shape and types")
    func errorBody() {
        #expect(AnthropicErrorBody(.invalidRequest("bad", param: "x")).json
                == ["type": "error", "error": ["type": "invalid_request_error", "message": "bad"]])
        #expect(AnthropicErrorBody(.invalidAPIKey).json["error"]?["type"] == "authentication_error")
        #expect(AnthropicErrorBody(APIError(status: 503, message: "busy", type: "x")).json["error"]?["type"] == "overloaded_error")
        #expect(AnthropicErrorBody(APIError(status: 500, message: "oops", type: "x")).json["error"]?["type"] == "api_error")
    }
}

@Suite("Anthropic Messages streaming")
struct AnthropicStreamTests {
    @Test("a block opens when another kind of output begins and closes before the next; tool input streams as JSON")
    func blocks() {
        var stream = AnthropicBlockStream()
        var events: [(String, JSONValue)] = []
        events += stream.events(for: ChatDelta(reasoningContent: "Think"))
        events += stream.events(for: ChatDelta(reasoningContent: "ing."))
        events += stream.events(for: ChatDelta(content: "Calling."))
        events += stream.events(for: ChatDelta(toolCalls: [ToolCallChunk(index: 0, id: "call_a", name: "f", arguments: nil)]))
        events += stream.events(for: ChatDelta(toolCalls: [ToolCallChunk(index: 0, id: nil, name: nil, arguments: "{\"x\":"),
                                                           ToolCallChunk(index: 0, id: nil, name: nil, arguments: "1}"),
                                                           ToolCallChunk(index: 1, id: "call_b", name: "g", arguments: "{}")]))
        events += stream.close()
        let summary = events.map { name, data -> String in
            let index = data["index"].map { "\($0.compactJSON)" } ?? "-"
            let delta = data["delta"].map { " " + $0.compactJSON } ?? data["content_block"].map { " " + $0.compactJSON } ?? ""
            return "\(name) \(index)\(delta)"
        }
        #expect(summary == [
            #"content_block_start 0 {"type":"thinking","thinking":"","signature":""}"#,
            #"content_block_delta 0 {"type":"thinking_delta","thinking":"Think"}"#,
            #"content_block_delta 0 {"type":"thinking_delta","thinking":"ing."}"#,
            "content_block_stop 0",
            #"content_block_start 1 {"type":"text","text":""}"#,
            #"content_block_delta 1 {"type":"text_delta","text":"Calling."}"#,
            "content_block_stop 1",
            #"content_block_start 2 {"type":"tool_use","id":"call_a","name":"f","input":{}}"#,
            #"content_block_delta 2 {"type":"input_json_delta","partial_json":"{\"x\":"}"#,
            #"content_block_delta 2 {"type":"input_json_delta","partial_json":"1}"}"#,
            "content_block_stop 2",
            #"content_block_start 3 {"type":"tool_use","id":"call_b","name":"g","input":{}}"#,
            #"content_block_delta 3 {"type":"input_json_delta","partial_json":"{}"}"#,
            "content_block_stop 3",
        ], "\(summary)")
    }
}
