import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Models
import OrderedJSON
@testable import Server
import Templates
import Testing
import Tokenizers

/// The `server_tiny` fixture (Tools/fixtures/make_fixtures.py): a checkpoint with a GLM-layout
/// tokenizer and the official chat template, trained to reproduce the conversations in
/// `server_golden.json` under greedy decoding.
enum ServerFixture {
    static let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = repoRoot.appendingPathComponent("Tests/Fixtures/models/server_tiny")
    static let modelName = "tiny-glm"

    /// `server_golden.json`, read with the order-preserving parser (tool schemas must keep their
    /// key order, or the rendered prompt changes).
    struct Golden {
        struct Conversation {
            let name: String
            let request: JSONValue
            let prompt: String
            let prompt_ids: [Int]
            let completion: String
            let completion_ids: [Int]
        }
        let tools: JSONValue
        let conversations: [Conversation]

        func conversation(_ name: String) -> Conversation { conversations.first { $0.name == name }! }
    }

    static let golden: Golden = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("server_golden.json"))
        let json = try! JSONValue.parse(data: data)
        func ints(_ v: JSONValue?) -> [Int] {
            (v?.arrayValue ?? []).map { if case .int(let i) = $0 { return i }; return -1 }
        }
        let conversations = (json["conversations"]?.arrayValue ?? []).map { c in
            Golden.Conversation(name: c["name"]!.stringValue!, request: c["request"]!, prompt: c["prompt"]!.stringValue!,
                                prompt_ids: ints(c["prompt_ids"]), completion: c["completion"]!.stringValue!,
                                completion_ids: ints(c["completion_ids"]))
        }
        return Golden(tools: json["tools"]!, conversations: conversations)
    }()

    /// One model for every test (the engine runs one request at a time).
    static let model: ServingModel = {
        let configuration = ServerConfiguration(modelPath: directory.path)
        return try! ServingModel.load(directory: directory, configuration: configuration) { SerialEngine(model: $0) }
    }()

    static func configuration(_ adjust: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var c = ServerConfiguration(modelPath: directory.path)
        c.servedModelName = modelName
        c.toolCallParser = "glm45"
        c.reasoningParser = "glm45"
        c.enableMetrics = true
        adjust(&c)
        return c
    }

    /// A router over a ready server (or one in `phase`).
    static func app(_ adjust: (inout ServerConfiguration) -> Void = { _ in }, phase: ServerState.Phase? = nil,
                    model: ServingModel? = nil) -> (Application<RouterResponder<ServerRequestContext>>, ServerServices) {
        let services = ServerServices(configuration: configuration(adjust), state: ServerState(phase ?? .ready(model ?? Self.model)))
        return (Application(router: buildRouter(services: services)), services)
    }
}

/// A response's JSON body.
struct JSONResult {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    let object: [String: Any]

    init(_ response: TestResponse) {
        status = response.status
        headers = response.headers
        text = String(buffer: response.body)
        object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    var error: [String: Any]? { object["error"] as? [String: Any] }
    var errorMessage: String { error?["message"] as? String ?? "" }
    var choices: [[String: Any]] { object["choices"] as? [[String: Any]] ?? [] }
    var message: [String: Any] { choices.first?["message"] as? [String: Any] ?? [:] }
    var usage: [String: Any] { object["usage"] as? [String: Any] ?? [:] }
}

/// The `data:` events of an SSE response (`[DONE]` kept as the string "[DONE]").
struct SSEEvents {
    let events: [Any]

    init(_ response: TestResponse) {
        let text = String(buffer: response.body)
        var out: [Any] = []
        for block in text.components(separatedBy: "\n\n") where block.hasPrefix("data: ") {
            let payload = String(block.dropFirst(6))
            if payload == "[DONE]" { out.append(payload) } else {
                out.append((try? JSONSerialization.jsonObject(with: Data(payload.utf8))) ?? payload)
            }
        }
        events = out
    }

    var chunks: [[String: Any]] { events.compactMap { $0 as? [String: Any] } }
    var endsWithDone: Bool { (events.last as? String) == "[DONE]" }

    /// Deltas of choice `index`, in order.
    func deltas(_ index: Int = 0) -> [[String: Any]] {
        chunks.flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }
            .filter { ($0["index"] as? Int) == index }
            .compactMap { $0["delta"] as? [String: Any] }
    }

    func text(_ field: String, _ index: Int = 0) -> String {
        deltas(index).compactMap { $0[field] as? String }.joined()
    }

    func finishReason(_ index: Int = 0) -> String? {
        chunks.flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }
            .filter { ($0["index"] as? Int) == index }
            .compactMap { $0["finish_reason"] as? String }.last
    }

    /// Tool calls rebuilt from deltas the way OpenAI clients do: by index, id and name from the
    /// first piece, arguments concatenated.
    func toolCalls(_ index: Int = 0) -> [(id: String, name: String, arguments: String)] {
        var calls: [Int: (id: String, name: String, arguments: String)] = [:]
        for d in deltas(index) {
            for c in (d["tool_calls"] as? [[String: Any]]) ?? [] {
                let i = c["index"] as! Int
                let f = c["function"] as? [String: Any] ?? [:]
                var call = calls[i] ?? ("", "", "")
                if let id = c["id"] as? String { call.id = id }
                if let name = f["name"] as? String { call.name += name }
                if let args = f["arguments"] as? String { call.arguments += args }
                calls[i] = call
            }
        }
        return calls.keys.sorted().map { calls[$0]! }
    }
}

extension TestClientProtocol {
    func post(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var h = headers
        h[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: h, body: ByteBuffer(string: json))
    }

    func postJSON(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> JSONResult {
        JSONResult(try await post(uri, json, headers: headers))
    }
}

/// JSON text for a request built from a golden conversation's request plus extra fields.
func requestJSON(_ base: JSONValue, _ extra: [String: JSONValue] = [:]) -> String {
    guard case .object(var o) = base else { return base.compactJSON }
    for (k, v) in extra.sorted(by: { $0.key < $1.key }) { o[k] = v }
    return JSONValue.object(o).compactJSON
}

/// Parses JSON argument text into a Foundation object for comparisons.
func jsonObject(_ text: String) -> NSDictionary? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? NSDictionary
}
