/// An error as the OpenAI API reports it: an HTTP status plus
/// `{"error": {"message", "type", "param", "code"}}`. Handlers throw these; the server turns them
/// into responses in one place.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status) \(type): \(message)" }

    public var body: ErrorResponse {
        ErrorResponse(error: .init(message: message, type: type, param: param, code: code))
    }

    // MARK: The errors the server reports

    /// 400: malformed JSON, wrong types, out-of-range values, unusable requests.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 400: prompt plus max_tokens beyond the context window.
    public static func contextLengthExceeded(promptTokens: Int, maxTokens: Int, contextLength: Int) -> APIError {
        invalidRequest("This model's maximum context length is \(contextLength) tokens. However, you requested "
                       + "\(promptTokens + maxTokens) tokens (\(promptTokens) in the messages, \(maxTokens) in the "
                       + "completion). Please reduce the length of the messages or completion.",
                       param: "messages", code: "context_length_exceeded")
    }

    /// 401: missing or wrong API key.
    public static let invalidAPIKey = APIError(
        status: 401, message: "Incorrect API key provided. Pass it as 'Authorization: Bearer <key>'.",
        type: "invalid_request_error", code: "invalid_api_key")

    /// 404: no such model.
    public static func modelNotFound(_ model: String, available: String) -> APIError {
        APIError(status: 404, message: "The model `\(model)` does not exist. This server serves `\(available)`.",
                 type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    /// 404: no such route.
    public static func routeNotFound(method: String, path: String) -> APIError {
        APIError(status: 404, message: "Unknown request URL: \(method) \(path).", type: "invalid_request_error",
                 code: "unknown_url")
    }

    /// 405: known route, wrong method.
    public static func methodNotAllowed(method: String, path: String) -> APIError {
        APIError(status: 405, message: "Method \(method) is not allowed for \(path).", type: "invalid_request_error")
    }

    /// 413: request body over the configured limit.
    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: 413, message: "The request body is larger than this server accepts (\(limit) bytes).",
                 type: "invalid_request_error", code: "request_too_large")
    }

    /// 503: the model is still loading.
    public static let modelLoading = APIError(status: 503, message: "The model is loading; retry shortly.",
                                              type: "unavailable_error", code: "model_loading")

    /// 503: too many requests in flight.
    public static func overloaded(_ detail: String) -> APIError {
        APIError(status: 503, message: "The server is overloaded (\(detail)); retry later.", type: "unavailable_error",
                 code: "server_overloaded")
    }

    /// 499 (nginx's "client closed request"): the client went away and its generation was
    /// cancelled; nobody reads the response, the status is for logs and metrics.
    public static let clientClosedRequest = APIError(status: 499, message: "The client closed the request.",
                                                     type: "invalid_request_error", code: "client_closed_request")

    /// 500: a bug or an engine failure, as the server reports it: no internals, the request id
    /// under which the log has the details.
    public static func internalError(requestID: String) -> APIError {
        APIError(status: 500, message: "Internal error; the server log has the details under request id \(requestID).",
                 type: "internal_server_error", code: "internal_error")
    }

    /// 408: the request body did not arrive in time.
    public static func bodyReadTimeout(_ limit: Duration) -> APIError {
        APIError(status: 408, message: "The request body did not arrive within \(limit.components.seconds) seconds.",
                 type: "invalid_request_error", code: "request_timeout")
    }
}

/// `{"error": {"message", "type", "param", "code"}}` with explicit nulls, as OpenAI sends it.
public struct ErrorResponse: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?

        public init(message: String, type: String, param: String?, code: String?) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)
            try c.encode(code, forKey: .code)
        }
    }

    public var error: Detail

    public init(error: Detail) { self.error = error }
}

extension APIError {
    /// A readable 400 for a `DecodingError` from decoding a request body, naming the field
    /// (`messages[0].content`) as `param`.
    public static func from(decodingError error: DecodingError) -> APIError {
        func path(_ keys: [CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out
        }
        switch error {
        case .typeMismatch(let type, let context):
            let p = path(context.codingPath)
            let expected = APIError.typeName(type)
            let detail = context.debugDescription.hasPrefix("expected") ? context.debugDescription : "expected \(expected)"
            return .invalidRequest("Invalid type for '\(p)': \(detail).", param: p, code: "invalid_type")
        case .valueNotFound(let type, let context):
            let p = path(context.codingPath)
            return .invalidRequest("Invalid value for '\(p)': expected \(APIError.typeName(type)), got null.", param: p,
                                   code: "invalid_type")
        case .keyNotFound(let key, let context):
            let p = path(context.codingPath + [key])
            return .invalidRequest("Missing required parameter: '\(p)'.", param: p, code: "missing_required_parameter")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .invalidRequest("The request body is not valid JSON: \(context.debugDescription)",
                                       code: "invalid_json")
            }
            let p = path(context.codingPath)
            return .invalidRequest("Invalid value for '\(p)': \(context.debugDescription)", param: p, code: "invalid_value")
        @unknown default:
            return .invalidRequest("Invalid request: \(error)")
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type, is UInt64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default: return "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
