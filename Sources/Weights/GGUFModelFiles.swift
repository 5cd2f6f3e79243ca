import Foundation

/// The files of one GGUF model: a single `.gguf`, or every part of a split set
/// (`NAME-00001-of-00003.gguf`, ../shared/spec/gguf.md §1.8), found from any one part or from
/// the folder holding them. Metadata comes from the first part; tensors from all of them.
public final class GGUFModelFiles: @unchecked Sendable {
    public let files: [GGUFFile]
    /// Every tensor of every part, by name.
    public let tensors: [String: TensorView]
    /// Tensor names in part order, then file order.
    public let tensorNames: [String]

    public var metadata: [String: GGUFValue] { files[0].metadata }
    public subscript(key: String) -> GGUFValue? { files[0].metadata[key] }
    /// The first part's path, which names the model in messages.
    public var path: String { files[0].path }

    /// Whether `url` names a GGUF model: a `.gguf` file, or a folder holding `.gguf` files and no
    /// `config.json` (a Hugging Face checkpoint folder).
    public static func isGGUF(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            return url.pathExtension.lowercased() == "gguf"
        }
        guard isDirectory.boolValue else { return url.pathExtension.lowercased() == "gguf" }
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) { return false }
        return !ggufNames(in: url).isEmpty
    }

    /// Opens the model `url` names: a file (any part of a split set), or a folder holding exactly
    /// one model.
    public init(url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw WeightsError.fileNotFound(path: url.path)
        }
        var file = url
        if isDirectory.boolValue {
            let models = Self.models(in: url)
            guard models.count == 1, let only = models.first else {
                throw WeightsError.ggufSet(path: url.path, reason: models.isEmpty
                    ? "no .gguf file in this folder"
                    : "this folder holds \(models.count) GGUF models (\(models.keys.sorted().joined(separator: ", "))); give one file with --model-path")
            }
            file = url.appendingPathComponent(only.value)
        }
        var paths = [file.path]
        if let split = SplitName(file.lastPathComponent) {
            let folder = file.deletingLastPathComponent()
            paths = (1...split.count).map { folder.appendingPathComponent(split.part($0)).path }
            for path in paths where !FileManager.default.fileExists(atPath: path) {
                throw WeightsError.ggufSet(path: path, reason: "part of the split model \(file.lastPathComponent) is missing")
            }
        }
        let files = try paths.map(GGUFFile.init(path:))
        if files.count > 1 { try Self.checkSplitKeys(files) }
        var tensors: [String: TensorView] = [:]
        var names: [String] = []
        for file in files {
            for name in file.tensorNames {
                if let other = tensors[name] {
                    throw WeightsError.corruptTensor(path: file.path, tensor: name, reason: "also present in \(other.path)")
                }
                tensors[name] = file.tensors[name]
                names.append(name)
            }
        }
        self.files = files
        self.tensors = tensors
        tensorNames = names
    }

    /// Each part says which it is (`split.no`, 0-based), how many there are (`split.count`), and
    /// the first how many tensors all parts hold (`split.tensors.count`).
    private static func checkSplitKeys(_ files: [GGUFFile]) throws {
        for (index, file) in files.enumerated() {
            if let no = file["split.no"]?.int, no != index {
                throw WeightsError.ggufSet(path: file.path, reason: "split.no is \(no), but this is part \(index + 1) of \(files.count)")
            }
            if let count = file["split.count"]?.int, count != files.count {
                throw WeightsError.ggufSet(path: file.path, reason: "split.count is \(count), but the file name says \(files.count) parts")
            }
        }
        let total = files.reduce(0) { $0 + $1.tensorNames.count }
        if let expected = files[0]["split.tensors.count"]?.int, expected != total {
            throw WeightsError.ggufSet(path: files[0].path, reason: "split.tensors.count is \(expected), but the \(files.count) parts hold \(total) tensors")
        }
    }

    private static func ggufNames(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.lowercased().hasSuffix(".gguf") && !$0.hasPrefix(".") }
    }

    /// The folder's models, each with one of its files: split sets by prefix, single files by name.
    private static func models(in folder: URL) -> [String: String] {
        var models: [String: String] = [:]
        for name in ggufNames(in: folder).sorted() {
            models[SplitName(name)?.prefix ?? name] = models[SplitName(name)?.prefix ?? name] ?? name
        }
        return models
    }

    /// `PREFIX-%05d-of-%05d.gguf`, 1-based.
    struct SplitName {
        let prefix: String
        let count: Int

        init?(_ name: String) {
            guard name.hasSuffix(".gguf") else { return nil }
            let stem = name.dropLast(5)
            let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count >= 4, parts[parts.count - 2] == "of",
                  let no = Int(parts[parts.count - 3]), let count = Int(parts[parts.count - 1]),
                  parts[parts.count - 3].count == 5, parts[parts.count - 1].count == 5,
                  count >= 1, (1...count).contains(no) else { return nil }
            prefix = parts.dropLast(3).joined(separator: "-")
            self.count = count
        }

        func part(_ no: Int) -> String { prefix + String(format: "-%05d-of-%05d.gguf", no, count) }
    }
}
