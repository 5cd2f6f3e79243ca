import Foundation
import FuzzKit
import OpenAIAPI
import OrderedJSON

/// The request decoders of the OpenAI-compatible routes, as the server runs them on a body: the
/// UTF-8 check, `JSONDecoder` into each request DTO (a `DecodingError` becomes the 400 the server
/// sends, which must encode), and the order-preserving parse of the same body that `ChatPlan`
/// and the Anthropic / Responses routes read. (The Anthropic and Responses translations
/// themselves are internal to `Server`; see Fuzz/README.md.)
///
/// Input: one byte choosing the route, then the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var reader = FuzzReader(Fuzz.bytes(data, size))
    let route = reader.byte()
    let body = Data(reader.rest())
    guard !body.isEmpty, String(validating: body, as: UTF8.self) != nil else { return 0 }

    switch route % 4 {
    case 0: decode(ChatCompletionRequest.self, body) { r in
        _ = (r.messages.count, r.tools?.count, r.toolChoice, r.sampling.stop?.values, r.responseFormat, r.chatTemplateKwargs)
        for m in r.messages { _ = (m.role, m.content) }
    }
    case 1: decode(CompletionRequest.self, body) { r in _ = (r.prompt, r.sampling.stop?.values, r.suffix) }
    case 2: decode(TokenizeRequest.self, body) { _ in }
    default: decode(DetokenizeRequest.self, body) { r in _ = r.tokens.count }
    }
    if let value = try? JSONValue.parse(data: body) {
        _ = value.compactJSON
        if case .object(let o) = value { _ = (o["messages"], o["input"], o["response_format"]?["json_schema"]) }
    }
    return 0
}

func decode<T: Decodable>(_ type: T.Type, _ body: Data, _ use: (T) -> Void) {
    do {
        use(try JSONDecoder().decode(type, from: body))
    } catch let error as DecodingError {
        let api = APIError.from(decodingError: error)
        Fuzz.check((400..<500).contains(api.status), "a decoding error became status \(api.status)")
        guard let encoded = try? JSONEncoder().encode(api.body) else {
            Fuzz.check(false, "the error body for \(error) does not encode")
            return
        }
        Fuzz.check((try? JSONValue.parse(data: encoded)) != nil, "the error body is not JSON")
    } catch {
        Fuzz.check(false, "JSONDecoder threw a non-DecodingError: \(error)")
    }
}

@main enum FuzzRequestsMain {
    static func main() { Fuzz.main(fuzzRequests) }
}
