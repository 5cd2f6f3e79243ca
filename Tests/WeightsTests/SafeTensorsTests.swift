import Foundation
import Testing
import Weights

/// Builds small safetensors files in a scratch folder.
final class ScratchFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("glm-weights-\(UUID().uuidString)")
    init() { try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `header` (tensor entries) followed by `data`.
    @discardableResult
    func write(_ name: String, header: [String: Any], data: [UInt8]) throws -> String {
        let json = try JSONSerialization.data(withJSONObject: header)
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        bytes += json
        bytes += data
        let path = url.appendingPathComponent(name).path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }
}

@Suite("safetensors")
struct SafeTensorsTests {
    @Test("parses tensors of every float dtype with their shapes and bytes")
    func parse() throws {
        let folder = ScratchFolder()
        let data: [UInt8] = Array(0..<32)
        let path = try folder.write("model.safetensors", header: [
            "a": ["dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]],
            "b": ["dtype": "BF16", "shape": [4], "data_offsets": [16, 24]],
            "c": ["dtype": "F8_E4M3", "shape": [2, 3], "data_offsets": [24, 30]],
            "d": ["dtype": "F16", "shape": [], "data_offsets": [30, 32]],
            "__metadata__": ["format": "pt"],
        ], data: data)
        let file = try SafeTensorsFile(path: path)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors["a"]?.shape == [2, 2] && file.tensors["a"]?.dtype == .f32)
        #expect(file.tensors["c"]?.byteCount == 6 && file.tensors["c"]?.dtype == .f8e4m3)
        #expect(file.tensors["d"]?.shape == [] && file.tensors["d"]?.elementCount == 1)
        #expect(file.tensors["b"]!.data.loadUnaligned(fromByteOffset: 0, as: UInt8.self) == 16, "b starts at data offset 16")
    }

    @Test("byte ranges that disagree with the shape are rejected")
    func sizeMismatch() throws {
        let folder = ScratchFolder()
        let path = try folder.write("x.safetensors", header: ["a": ["dtype": "F32", "shape": [3], "data_offsets": [0, 8]]],
                                    data: Array(repeating: 0, count: 8))
        #expect { try SafeTensorsFile(path: path) } throws: { error in
            guard case WeightsError.corruptTensor(let p, let t, _) = error else { return false }
            return p == path && t == "a"
        }
    }

    @Test("an entry without data_offsets is rejected")
    func incompleteEntry() throws {
        let folder = ScratchFolder()
        let path = try folder.write("x.safetensors", header: ["a": ["dtype": "F32", "shape": [1]]], data: [0, 0, 0, 0])
        #expect { try SafeTensorsFile(path: path) } throws: { error in
            guard case WeightsError.corruptTensor(_, let t, _) = error else { return false }
            return t == "a"
        }
    }

    @Test("a header that is not JSON")
    func badJSON() throws {
        let folder = ScratchFolder()
        var bytes = withUnsafeBytes(of: UInt64(4).littleEndian) { Data($0) }
        bytes += Data("nope".utf8)
        let path = folder.url.appendingPathComponent("x.safetensors").path
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: WeightsError.corruptHeader(path: path, reason: "header is not valid JSON (or is nested too deeply)")) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test("a missing file")
    func missing() {
        #expect(throws: WeightsError.fileNotFound(path: "/nonexistent/x.safetensors")) {
            try SafeTensorsFile(path: "/nonexistent/x.safetensors")
        }
    }

    @Test("a sharded checkpoint resolves tensors through its index")
    func sharded() throws {
        let folder = ScratchFolder()
        try folder.write("part-1.safetensors", header: ["a": ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]], data: [0, 0, 128, 63])
        try folder.write("part-2.safetensors", header: ["b": ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]], data: [0, 0, 0, 64])
        let index = ["metadata": ["total_size": 8], "weight_map": ["a": "part-1.safetensors", "b": "part-2.safetensors"]] as [String: Any]
        try JSONSerialization.data(withJSONObject: index).write(to: folder.url.appendingPathComponent("model.safetensors.index.json"))
        let checkpoint = try Checkpoint(directory: folder.url)
        #expect(checkpoint.tensorNames == ["a", "b"])
        #expect(try checkpoint.tensor("b").data.loadUnaligned(as: Float.self) == 2)
        #expect(checkpoint.untakenTensorNames == ["a"], "only b was taken")
        var reports: [LoadProgress] = []
        checkpoint.prefault { reports.append($0) }
        #expect(reports.last?.bytesDone == 4 && reports.last?.tensorsDone == 1)
    }

    @Test("an index naming a tensor its shard lacks")
    func indexMismatch() throws {
        let folder = ScratchFolder()
        try folder.write("part-1.safetensors", header: ["a": ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]], data: [0, 0, 0, 0])
        let index = ["weight_map": ["a": "part-1.safetensors", "z": "part-1.safetensors"]]
        try JSONSerialization.data(withJSONObject: index).write(to: folder.url.appendingPathComponent("model.safetensors.index.json"))
        #expect { try Checkpoint(directory: folder.url) } throws: { error in
            guard case WeightsError.corruptTensor(_, let t, _) = error else { return false }
            return t == "z"
        }
    }

    @Test("an index that is not a weight map")
    func badIndex() throws {
        let folder = ScratchFolder()
        try Data("[]".utf8).write(to: folder.url.appendingPathComponent("model.safetensors.index.json"))
        #expect { try Checkpoint(directory: folder.url) } throws: { error in
            if case WeightsError.badIndex = error { return true }
            return false
        }
    }
}
