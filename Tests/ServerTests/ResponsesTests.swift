import Foundation
import OpenAIAPI
import OrderedJSON
@testable import Server
import Testing

@Suite("Responses API translation")
struct ResponsesTranslationTests {
    func chat(_ request: String) throws -> JSONValue { try ResponsesTranslation.chatRequest(try JSONValue.parse(request)) }

    @Test("instructions, messages, reasoning, function calls and their outputs, tools and options become a chat request")
    func wholeRequest() throws {
        let got = try chat("""
            {"model": "m", "instructions": "Be brief.", "max_output_tokens": 64, "temperature": 0, "stream": true,
             "input": [
               {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
               {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "Call it."}]},
               {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
               {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"},
               {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": "{\\"city\\": \\"Rome\\"}"},
               {"type": "function_call_output", "call_id": "c1", "output": "18 C"},
               {"type": "function_call_output", "call_id": "c2", "output": "21 C"},
               {"role": "developer", "content": "Answer in one line."}],
             "tools": [{"type": "function", "name": "get_weather", "description": "Weather.", "parameters": {"type": "object"}, "strict": false}],
             "tool_choice": {"type": "function", "name": "get_weather"}, "parallel_tool_calls": false,
             "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}},
             "reasoning": {"effort": "minimal"}, "store": false, "metadata": {"a": "b"}}
            """)
        let want = try JSONValue.parse("""
            {"messages": [{"role": "system", "content": "Be brief."},
               {"role": "user", "content": "Weather in Paris?"},
               {"role": "assistant", "content": "Checking.", "reasoning_content": "Call it.",
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}},
                               {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Rome\\"}"}}]},
               {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
               {"role": "tool", "tool_call_id": "c2", "content": "21 C"},
               {"role": "developer", "content": "Answer in one line."}],
             "max_tokens": 64, "temperature": 0, "parallel_tool_calls": false, "stream": true, "stream_options": {"include_usage": true},
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather.", "parameters": {"type": "object"},
                        "strict": false}}],
             "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
             "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": true}},
             "chat_template_kwargs": {"enable_thinking": false}}
            """)
        #expect(got == want, "\(got.compactJSON)")
        #expect(try chat(#"{"input": "hi"}"#) == ["messages": [["role": "user", "content": "hi"]]])
    }

    @Test("what cannot be translated is a 400 naming the field", arguments: [
        (#"{"input": "hi", "previous_response_id": "resp_1"}"#, "previous_response_id"),
        (#"{"input": "hi", "conversation": "conv_1"}"#, "conversation"),
        (#"{"input": 3}"#, "input"),
        (#"{"input": [{"role": "tool", "content": "x"}]}"#, "input[0].role"),
        (#"{"input": [{"type": "item_reference", "id": "x"}]}"#, "input[0].type"),
        (#"{"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}"#, "input[0].content"),
        (#"{"input": [{"type": "function_call", "call_id": "c", "name": "f"}]}"#, "input[0]"),
        (#"{"input": "hi", "tools": [{"type": "web_search"}]}"#, "tools[0].type"),
        (#"{"input": "hi", "tool_choice": "sometimes"}"#, "tool_choice"),
        (#"{"input": "hi", "max_output_tokens": 0}"#, "max_output_tokens"),
        (#"{"input": "hi", "text": {"format": {"type": "xml"}}}"#, "text.format.type"),
    ])
    func refused(request: String, param: String) throws {
        #expect {
            try chat(request)
        } throws: { error in
            guard let e = error as? APIError else { return false }
            return e.status == 400 && e.param == param
        }
    }
}

@Suite("Responses API streaming")
struct ResponsesStreamTests {
    @Test("items open and finish in order, with their parts, deltas and done events; the output keeps them")
    func items() {
        var stream = ResponsesItemStream()
        var events: [JSONValue] = []
        events += stream.events(for: ChatDelta(reasoningContent: "Think."))
        events += stream.events(for: ChatDelta(content: "Calling."))
        events += stream.events(for: ChatDelta(toolCalls: [ToolCallChunk(index: 0, id: "call_a", name: "f", arguments: "{\"x\":"),
                                                           ToolCallChunk(index: 0, id: nil, name: nil, arguments: "1}")]))
        events += stream.close()
        #expect(events.compactMap { $0["type"]?.stringValue } == [
            "response.output_item.added", "response.content_part.added", "response.reasoning_text.delta",
            "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
        ])
        #expect(events.compactMap { $0["output_index"]?.intValue } == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
        #expect(stream.output.map { $0["type"]?.stringValue } == ["reasoning", "message", "function_call"])
        #expect(stream.output[1]["content"] == [["type": "output_text", "text": "Calling.", "annotations": []]])
        #expect(stream.output[2]["arguments"] == "{\"x\":1}")
        #expect(stream.output[2]["call_id"] == "call_a")
        #expect(stream.output.allSatisfy { $0["status"] == "completed" })
        #expect(stream.reasoningTokens == 1)
    }
}
