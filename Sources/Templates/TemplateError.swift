/// Errors from loading or rendering a template. `line` is the 1-based template line when known.
public struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The template text does not parse (reported by `ChatTemplate.init`).
        case syntax
        /// An undefined value was used in a way jinja2's `Undefined` rejects.
        case undefined
        /// A type error or bad argument while rendering.
        case runtime
        /// The template called `raise_exception(message)`.
        case raised
        /// Rendering exceeded the work limit (runaway loop or recursion).
        case limit
    }

    public let kind: Kind
    public let message: String
    public internal(set) var line: Int?
    /// Where the template came from (a file, or a file and its `chat_template` key), when it
    /// was loaded from a model folder or a `--chat-template` file; `line` counts from the
    /// start of the template text there.
    public internal(set) var origin: String?

    public init(kind: Kind, message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String {
        let prefix: String
        switch kind {
        case .syntax: prefix = "template syntax error"
        case .undefined: prefix = "undefined value"
        case .runtime: prefix = "template error"
        case .raised: prefix = "template raised"
        case .limit: prefix = "template limit"
        }
        let located = line.map { "\(prefix) (line \($0)): \(message)" } ?? "\(prefix): \(message)"
        return origin.map { "\($0): \(located)" } ?? located
    }

    static func syntax(_ m: String, line: Int) -> TemplateError { TemplateError(kind: .syntax, message: m, line: line) }
    static func runtime(_ m: String) -> TemplateError { TemplateError(kind: .runtime, message: m) }
    static func undefined(_ m: String) -> TemplateError { TemplateError(kind: .undefined, message: m) }

    /// Adds a line number unless a more precise one is already set.
    func at(_ line: Int) -> TemplateError {
        var e = self
        if e.line == nil { e.line = line }
        return e
    }
}
