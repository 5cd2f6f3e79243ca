/// Problems with a model's configuration, or with a request to the model.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case missingField(field: String, file: String)
    case invalidField(field: String, file: String, reason: String)
    case unsupportedArchitecture(found: String, file: String, supported: [String])
    case unreadableConfig(file: String, reason: String)
    case unknownTensors(names: [String], directory: String)
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    case contextOverflow(sequence: Int, needed: Int, limit: Int)
    case outOfCacheBlocks(needed: Int, free: Int)
    case noMTPLayer

    public var description: String {
        switch self {
        case .missingField(let field, let file): "\(file): missing required field '\(field)'"
        case .invalidField(let field, let file, let reason): "\(file): invalid '\(field)': \(reason)"
        case .unsupportedArchitecture(let found, let file, let supported):
            "\(file): unsupported architecture '\(found)'; supported: \(supported.joined(separator: ", "))"
        case .unreadableConfig(let file, let reason): "\(file): \(reason)"
        case .unknownTensors(let names, let directory):
            "\(directory): \(names.count) tensor(s) not used by the model: \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", …" : "")"
        case .tokenOutOfRange(let token, let size): "token id \(token) is outside the vocabulary (0..<\(size))"
        case .contextOverflow(let sequence, let needed, let limit):
            "sequence \(sequence) needs \(needed) positions but the context holds \(limit)"
        case .outOfCacheBlocks(let needed, let free): "KV cache full: need \(needed) blocks, \(free) free"
        case .noMTPLayer: "the checkpoint has no MTP layer (model.layers.{num_hidden_layers}.*), or the cache was made without it"
        }
    }
}
