/// Problems with a checkpoint's files. Every case names the file, and the tensor where there is one.
public enum WeightsError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case corruptHeader(path: String, reason: String)
    case corruptTensor(path: String, tensor: String, reason: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case missingTensor(name: String, directory: String)
    case wrongShape(path: String, tensor: String, expected: [Int], found: [Int])
    case wrongDType(path: String, tensor: String, expected: String, found: DType)
    case badIndex(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): "\(path): file not found"
        case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .corruptHeader(let path, let reason): "\(path): corrupt safetensors header: \(reason)"
        case .corruptTensor(let path, let tensor, let reason): "\(path): tensor '\(tensor)': \(reason)"
        case .unsupportedDType(let path, let tensor, let dtype): "\(path): tensor '\(tensor)' has unsupported dtype \(dtype)"
        case .missingTensor(let name, let directory): "\(directory): checkpoint has no tensor '\(name)'"
        case .wrongShape(let path, let tensor, let expected, let found):
            "\(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .wrongDType(let path, let tensor, let expected, let found):
            "\(path): tensor '\(tensor)' has dtype \(found.rawValue), expected \(expected)"
        case .badIndex(let path, let reason): "\(path): invalid shard index: \(reason)"
        }
    }
}
