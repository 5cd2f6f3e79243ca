import Foundation

/// Everything that can go wrong while loading a tokenizer. Encoding and decoding never throw:
/// any `String` encodes, and unknown ids decode to nothing (as Hugging Face `tokenizers` does).
/// `description` and `localizedDescription` are the same readable text, naming the file (or
/// folder) and what was expected, so `"\(error)"` never shows the raw enum case.
public enum TokenizerError: Error, LocalizedError, CustomStringConvertible, Equatable, Sendable {
    /// The folder has neither `tokenizer.json` nor `tokenizer.model`.
    case noTokenizerFiles(directory: String)
    /// A file could not be read.
    case unreadable(file: String, reason: String)
    /// A file was read but is not what its format says (bad JSON, bad base64, missing field...).
    case malformed(file: String, reason: String)
    /// A well-formed file uses a component or option this implementation does not support.
    /// `component` names it the way the file does, e.g. `pre_tokenizer.Metaspace`.
    case unsupported(component: String, file: String)

    public var errorDescription: String? { description }

    public var description: String {
        switch self {
        case .noTokenizerFiles(let directory):
            return "\(directory): no tokenizer found; expected tokenizer.json (Hugging Face tokenizers) or "
                + "tokenizer.model (tiktoken ranks) in this folder"
        case .unreadable(let file, let reason):
            return "\(file): cannot read the tokenizer file: \(reason)"
        case .malformed(let file, let reason):
            return "\(file): malformed tokenizer file: \(reason)"
        case .unsupported(let component, let file):
            return "\(file): unsupported tokenizer component \(component)"
        }
    }
}
