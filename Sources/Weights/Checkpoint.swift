import Foundation

/// Progress of reading a checkpoint's weights into memory.
public struct LoadProgress: Sendable {
    public var bytesDone: Int
    public var bytesTotal: Int
    public var tensorsDone: Int
    public var tensorsTotal: Int
}

/// All safetensors files of a checkpoint folder: `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json`. Tensors are looked up by their checkpoint name; names that
/// are never taken are reported by `untakenTensorNames` so nothing is silently ignored.
public final class Checkpoint: @unchecked Sendable {
    /// The checkpoint folder, or the first file of a GGUF model.
    public let directory: URL
    public let files: [SafeTensorsFile]
    /// The GGUF model the tensors live in, when the checkpoint is one.
    public let gguf: GGUFModelFiles?
    private let tensors: [String: TensorView]
    private var taken: Set<String> = []
    private let lock = NSLock()

    /// A checkpoint over the tensors of a GGUF model, named as a Hugging Face checkpoint names
    /// them (an architecture's name mapping makes `tensors`; the views point into `gguf`).
    public init(gguf: GGUFModelFiles, tensors: [String: TensorView]) {
        directory = URL(fileURLWithPath: gguf.path)
        files = []
        self.gguf = gguf
        self.tensors = tensors
    }

    public init(directory: URL) throws {
        self.directory = directory
        gguf = nil
        let fm = FileManager.default
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        var shardNames: [String]
        var expectedLocation: [String: String] = [:]
        if fm.fileExists(atPath: indexURL.path) {
            guard let data = fm.contents(atPath: indexURL.path) else {
                throw WeightsError.unreadable(path: indexURL.path, reason: "cannot read file")
            }
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let weightMap = json["weight_map"] as? [String: String]
            else {
                throw WeightsError.badIndex(path: indexURL.path, reason: "expected a JSON object with a \"weight_map\" of tensor name to file name")
            }
            guard !weightMap.isEmpty else {
                throw WeightsError.badIndex(path: indexURL.path, reason: "\"weight_map\" lists no tensors")
            }
            expectedLocation = weightMap
            shardNames = Array(Set(weightMap.values)).sorted()
            for name in shardNames where name.isEmpty || name.contains("/") || name.hasPrefix(".") || name.contains("\0") {
                throw WeightsError.badIndex(path: indexURL.path, reason: "shard name '\(name)' must be a plain file name")
            }
        } else if fm.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path) {
            shardNames = ["model.safetensors"]
        } else {
            let contents = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
            shardNames = contents.filter { $0.hasSuffix(".safetensors") }.sorted()
            guard !shardNames.isEmpty else {
                throw WeightsError.fileNotFound(path: directory.appendingPathComponent("model.safetensors").path)
            }
        }
        files = try shardNames.map { try SafeTensorsFile(path: directory.appendingPathComponent($0).path) }
        var all: [String: TensorView] = [:]
        for file in files {
            for (name, view) in file.tensors {
                if let other = all[name] {
                    throw WeightsError.corruptTensor(path: file.path, tensor: name, reason: "also present in \(other.path)")
                }
                all[name] = view
            }
        }
        for (name, shard) in expectedLocation {
            let path = directory.appendingPathComponent(shard).path
            guard let view = all[name] else {
                throw WeightsError.corruptTensor(path: path, tensor: name, reason: "listed in model.safetensors.index.json but not in the file")
            }
            if view.path != path {
                throw WeightsError.corruptTensor(path: view.path, tensor: name, reason: "index says it is in \(shard)")
            }
        }
        tensors = all
    }

    public var tensorNames: [String] { tensors.keys.sorted() }
    public var totalBytes: Int { tensors.values.reduce(0) { $0 + $1.byteCount } }

    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// The tensor `name`, checked against an expected shape when one is given.
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> TensorView {
        guard let view = tensors[name] else {
            throw WeightsError.missingTensor(name: name, directory: directory.path)
        }
        if let shape, shape != view.shape {
            throw WeightsError.wrongShape(path: view.path, tensor: name, expected: shape, found: view.shape)
        }
        lock.withLock { _ = taken.insert(name) }
        return view
    }

    /// The tensor if present (for optional tensors such as biases), shape-checked.
    public func optionalTensor(_ name: String, shape: [Int]? = nil) throws -> TensorView? {
        contains(name) ? try tensor(name, shape: shape) : nil
    }

    /// Marks tensors as recognised without binding them (e.g. the MTP layer kept for later).
    public func markRecognised(_ names: some Sequence<String>) {
        lock.withLock { taken.formUnion(names) }
    }

    /// The tensor `name` without marking it taken, for checks that read every tensor.
    public func view(_ name: String) -> TensorView? { tensors[name] }

    /// Tensors a model part took (bound to a weight), sorted.
    public var takenTensorNames: [String] {
        lock.withLock { taken.filter { tensors[$0] != nil }.sorted() }
    }

    /// Tensors that no model part took or recognised.
    public var untakenTensorNames: [String] {
        lock.withLock { tensors.keys.filter { !taken.contains($0) }.sorted() }
    }

    /// Reads every taken tensor's pages once, so the first request does not pay for page
    /// faults, reporting progress about five times a second. A 200 GB checkpoint takes minutes.
    public func prefault(progress: ((LoadProgress) -> Void)? = nil) {
        let views = lock.withLock { taken.compactMap { tensors[$0] } }
            .sorted { $0.path == $1.path ? $0.data < $1.data : $0.path < $1.path }
        var state = LoadProgress(bytesDone: 0, bytesTotal: views.reduce(0) { $0 + $1.byteCount },
                                 tensorsDone: 0, tensorsTotal: views.count)
        let clock = ContinuousClock()
        var lastReport = clock.now
        progress?(state)
        var sink: UInt8 = 0
        for view in views {
            var offset = 0
            while offset < view.byteCount {
                let end = min(offset + (16 << 20), view.byteCount)
                for page in stride(from: offset, to: end, by: 4096) {
                    sink &+= view.data.load(fromByteOffset: page, as: UInt8.self)
                }
                state.bytesDone += end - offset
                offset = end
                if clock.now - lastReport > .milliseconds(200) {
                    progress?(state)
                    lastReport = clock.now
                }
            }
            state.tensorsDone += 1
        }
        progress?(state)
        prefaultChecksum = sink  // an observable use, so the page reads are not optimised away
    }

    /// A byte sum of the pages `prefault` read; exists so that the reads have a visible effect.
    public private(set) var prefaultChecksum: UInt8 = 0
}
