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
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: .init(code: error.status), headers: headers, body: .init(byteBuffer: buffer))
    }

    static func anthropicError(_ error: APIError) -> Response {
        Response(status: .init(code: error.status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: AnthropicErrorBody(error).json.compactJSON)))
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
        completed: (Completion) -> Void = { _ in }
    ) async throws -> Response {
        if stream {
            return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
                defer { permit.release() }
                try await request.body.consumeWithCancellationOnInboundClose { _ in try await events(&writer) }
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
        completed: (Completion) -> Void = { _ in }
    ) async throws -> Response {
        try await make(request: request, permit: permit, stream: stream, encode: JSONBody.encode, events: events,
                       complete: complete, completed: completed)
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

    static let headers: HTTPFields = [
        .contentType: "text/event-stream; charset=utf-8",
        .cacheControl: "no-cache",
        // The stream watches the connection for a client that goes away; HTTP keep-alive ends
        // with the response.
        .connection: "close",
    ]
}

extension Request {
    /// The body, up to `limit` bytes (413 above), checked to be UTF-8.
    mutating func jsonBody(limit: Int) async throws -> Data {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        } catch {
            throw APIError.invalidRequest("The request body could not be read: \(error).", code: "incomplete_body")
        }
        let data = Data(buffer.readableBytesView)
        if data.isEmpty { throw APIError.invalidRequest("The request body is empty; expected a JSON object.", code: "invalid_json") }
        guard String(validating: data, as: UTF8.self) != nil else {
            throw APIError.invalidRequest("The request body is not valid UTF-8.", code: "invalid_encoding")
        }
        return data
    }
}

/// Decodes a request DTO, mapping decoding failures to 400s that name the field.
func decodeRequest<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch let error as DecodingError {
        throw APIError.from(decodingError: error)
    }
}

func unixTime() -> Int { Int(Date().timeIntervalSince1970) }

func randomID(_ prefix: String) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    var g = SystemRandomNumberGenerator()
    return prefix + String((0..<24).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
}
