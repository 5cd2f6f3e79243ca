import Foundation

/// Everything that can go wrong while loading a tokenizer. Encoding and decoding never throw:
/// any `String` encodes, and unknown ids decode to nothing (as Hugging Face `tokenizers` does).
public enum TokenizerError: Error, LocalizedError, Equatable, Sendable {
    /// The folder has neither `tokenizer.json` nor `tokenizer.model`.
    case noTokenizerFiles(directory: String)
    /// A file could not be read.
    case unreadable(file: String, reason: String)
    /// A file was read but is not what its format says (bad JSON, bad base64, missing field...).
    case malformed(file: String, reason: String)
    /// A well-formed file uses a component or option this implementation does not support.
    /// `component` names it the way the file does, e.g. `pre_tokenizer.Metaspace`.
    case unsupported(component: String, file: String)

    public var errorDescription: String? {
        switch self {
        case .noTokenizerFiles(let directory):
            return "no tokenizer.json or tokenizer.model in \(directory)"
        case .unreadable(let file, let reason):
            return "cannot read \(file): \(reason)"
        case .malformed(let file, let reason):
            return "malformed tokenizer file \(file): \(reason)"
        case .unsupported(let component, let file):
            return "unsupported tokenizer component \(component) in \(file)"
        }
    }
}
