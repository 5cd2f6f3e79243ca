/// Problems with a checkpoint's files. Every case names the file, and the tensor where there is one.
public enum WeightsError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case corruptHeader(path: String, reason: String)
    case corruptGGUF(path: String, reason: String)
    /// A GGUF location that does not name one complete model (a missing split part, several models in a folder).
    case ggufSet(path: String, reason: String)
    case corruptTensor(path: String, tensor: String, reason: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case missingTensor(name: String, directory: String)
    case wrongShape(path: String, tensor: String, expected: [Int], found: [Int])
    case wrongDType(path: String, tensor: String, expected: String, found: DType)
    case badIndex(path: String, reason: String)
    /// A weight check (`WeightCheck`) found NaN or infinite elements: `checked` of `total` were read.
    case nonFinite(path: String, tensor: String, nan: Int, infinity: Int, checked: Int, total: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path): "\(path): file not found"
        case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .corruptHeader(let path, let reason): "\(path): corrupt safetensors header: \(reason)"
        case .corruptGGUF(let path, let reason): "\(path): corrupt GGUF file: \(reason)"
        case .ggufSet(let path, let reason): "\(path): \(reason)"
        case .corruptTensor(let path, let tensor, let reason): "\(path): tensor '\(tensor)': \(reason)"
        case .unsupportedDType(let path, let tensor, let dtype): "\(path): tensor '\(tensor)' has unsupported dtype \(dtype)"
        case .missingTensor(let name, let directory): "\(directory): checkpoint has no tensor '\(name)'"
        case .wrongShape(let path, let tensor, let expected, let found):
            "\(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .wrongDType(let path, let tensor, let expected, let found):
            "\(path): tensor '\(tensor)' has dtype \(found.rawValue), expected \(expected)"
        case .badIndex(let path, let reason): "\(path): invalid shard index: \(reason)"
        case .nonFinite(let path, let tensor, let nan, let infinity, let checked, let total):
            "\(path): tensor '\(tensor)' has \(Self.nonFiniteSummary(nan: nan, infinity: infinity)) among the "
                + (checked == total ? "\(total)" : "\(checked) of \(total)") + " elements checked; the weights are corrupt"
        }
    }

    private static func nonFiniteSummary(nan: Int, infinity: Int) -> String {
        var parts: [String] = []
        if nan > 0 { parts.append("\(nan) NaN") }
        if infinity > 0 { parts.append("\(infinity) infinite") }
        return parts.joined(separator: " and ") + (nan + infinity == 1 ? " value" : " values")
    }
}
