import Foundation
import Hummingbird
import NIOCore
import OpenAIAPI
import OrderedJSON

enum JSONBody {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    static func encode<T: Encodable>(_ value: T) throws -> ByteBuffer {
        ByteBuffer(data: try encoder.encode(value))
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: try encode(value)))
    }

    static func error(_ error: APIError) -> Response {
        let buffer = (try? encode(error.body)) ?? ByteBuffer(string: #"{"error":{"message":"error","type":"server_error","param":null,"code":null}}"#)
        return Response(status: .init(code: error.status), headers: headers(for: error), body: .init(byteBuffer: buffer))
    }

    static func anthropicError(_ error: APIError) -> Response {
        Response(status: .init(code: error.status), headers: headers(for: error),
                 body: .init(byteBuffer: ByteBuffer(string: AnthropicErrorBody(error).json.compactJSON)))
    }

    /// A 401 names the scheme; a 503 (loading, overloaded) says when to try again.
    private static func headers(for error: APIError) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        if error.status == 503 { headers[.retryAfter] = "1" }
        return headers
    }
}

/// Server-sent events: `data: <json>\n\n` per event, `data: [DONE]\n\n` at the end.
/// How a planned generation answers: Server-Sent Events written as tokens arrive, or one JSON
/// body when all choices are done. The admission permit is held until the answer is complete,
/// and a client that closes the connection cancels the generation.
enum GenerationResponse {
    static func make<Completion: Sendable>(
        request: Request, permit: AdmissionControl.Permit, stream: Bool,
        encode: (Completion) throws -> ByteBuffer,
        events: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void,
        complete: @escaping @Sendable () async throws -> Completion,
        completed: (Completion) -> Void = { _ in },
        streamFailure: @escaping @Sendable (APIError, inout any ResponseBodyWriter) async throws -> Void = SSE.failure
    ) async throws -> Response {
        if stream {
            return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
                defer { permit.release() }
                do {
                    try await request.body.consumeWithCancellationOnInboundClose { _ in try await events(&writer) }
                } catch let error where !(error is CancellationError) && !(error is ChannelError) {
                    // Failed after the 200 went out: the stream still ends the way its clients expect.
                    // (A connection that failed has nobody to tell.)
                    try? await streamFailure(ErrorMapping.apiError(error), &writer)
                }
                try await writer.finish(nil)
            })
        }
        defer { permit.release() }
        let completion = try await request.body.consumeWithCancellationOnInboundClose { _ in try await complete() }
        completed(completion)
        return Response(status: .ok, headers: [.contentType: "application/json", .connection: "close"],
                        body: .init(byteBuffer: try encode(completion)))
    }

    static func make<Completion: Encodable & Sendable>(
        request: Request, permit: AdmissionControl.Permit, stream: Bool,
        events: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void,
        complete: @escaping @Sendable () async throws -> Completion,
        completed: (Completion) -> Void = { _ in },
        streamFailure: @escaping @Sendable (APIError, inout any ResponseBodyWriter) async throws -> Void = SSE.failure
    ) async throws -> Response {
        try await make(request: request, permit: permit, stream: stream, encode: JSONBody.encode, events: events,
                       complete: complete, completed: completed, streamFailure: streamFailure)
    }
}

enum SSE {
    static func send<T: Encodable>(_ value: T, to writer: inout any ResponseBodyWriter) async throws {
        var buffer = ByteBuffer(string: "data: ")
        var body = try JSONBody.encode(value)
        buffer.writeBuffer(&body)
        buffer.writeString("\n\n")
        try await writer.write(buffer)
    }

    /// `event: <name>\ndata: <json>\n\n` (Anthropic's streams name their events).
    static func send(event name: String, _ data: JSONValue, to writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(ByteBuffer(string: "event: \(name)\ndata: \(data.compactJSON)\n\n"))
    }

    static func done(_ writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
    }

    /// The end of an OpenAI stream that failed: an `{"error": …}` event, then `[DONE]`.
    @Sendable static func failure(_ error: APIError, _ writer: inout any ResponseBodyWriter) async throws {
        try await send(error.body, to: &writer)
        try await done(&writer)
    }

    static let headers: HTTPFields = [
        .contentType: "text/event-stream; charset=utf-8",
        .cacheControl: "no-cache",
        // The stream watches the connection for a client that goes away; HTTP keep-alive ends
        // with the response.
        .connection: "close",
    ]
}

extension Request {
    /// The body, up to `limit` bytes (413 above) and within `timeout` (408 after), checked to be
    /// UTF-8, without a byte order mark (JSON has none, RFC 8259 §8.1).
    mutating func jsonBody(limit: Int, timeout: Duration) async throws -> Data {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit, within: timeout)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        } catch {
            throw APIError.invalidRequest("The request body could not be read (the connection failed or it was shorter "
                                          + "than its Content-Length).", code: "incomplete_body")
        }
        let data = Data(buffer.readableBytesView)
        if data.isEmpty { throw APIError.invalidRequest("The request body is empty; expected a JSON object.", code: "invalid_json") }
        guard String(validating: data, as: UTF8.self) != nil else {
            throw APIError.invalidRequest("The request body is not valid UTF-8.", code: "invalid_encoding")
        }
        if data.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw APIError.invalidRequest("The request body starts with a UTF-8 byte order mark; send plain JSON.",
                                          code: "invalid_json")
        }
        return data
    }

    /// `collectBody(upTo:)` that gives up after `timeout` (a client trickling its body).
    private mutating func collectBody(upTo limit: Int, within timeout: Duration) async throws -> ByteBuffer {
        let body = self.body
        let buffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else { throw APIError.bodyReadTimeout(timeout) }
            return buffer
        }
        self.body = .init(buffer: buffer)
        return buffer
    }
}

/// Decodes a request DTO, mapping decoding failures to 400s that name the field. The body is read
/// by the one JSON parser every endpoint uses (`JSONValue.parseRequest`), so that what is valid
/// JSON, how deep it may nest and what a lone surrogate becomes (U+FFFD) are the same on every
/// route.
func decodeRequest<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    try decodeRequest(type, from: try JSONValue.parseRequest(data))
}

/// `decodeRequest` of a body already parsed (for routes that also read its raw JSON).
func decodeRequest<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
    do {
        return try JSONValueDecoder().decode(type, from: value)
    } catch let error as DecodingError {
        throw APIError.from(decodingError: error)
    }
}

extension JSONValue {
    /// A request body, or a 400 that says where it stops being JSON.
    static func parseRequest(_ data: Data) throws -> JSONValue {
        do {
            return try JSONValue.parse(data: data)
        } catch let error as JSONParseError where error.message == "nesting too deep" {
            throw APIError.invalidRequest("The request body nests arrays and objects more than 512 levels deep (at byte "
                                          + "\(error.offset)), more than this server reads.", code: "too_deep")
        } catch {
            throw APIError.invalidRequest("The request body is not valid JSON: \(error).", code: "invalid_json")
        }
    }
}
func unixTime() -> Int
 { Int(Date().timeIntervalSince1970) }

func randomID(_ prefix: String) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    var g = SystemRandomNumberGenerator()
    return prefix + String((0..<24).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
}

/// The request context of `glm serve`: Hummingbird's basic one plus the connection, so that work
/// done before a response starts (planning a request, compiling its schema) can stop when the
/// client has gone away.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    private let channel: any Channel
    /// The connection was open when the request arrived (a test client's channel never is).
    private let wasActive: Bool

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        wasActive = source.channel.isActive
    }

    /// The client closed the connection this request came on.
    var clientIsGone: Bool { wasActive && !channel.isActive }

    /// `clientIsGone`, as a closure that work off the connection's task can poll.
    var clientGone: @Sendable () -> Bool {
        let channel = self.channel, wasActive = self.wasActive
        return { wasActive && !channel.isActive }
    }
}
