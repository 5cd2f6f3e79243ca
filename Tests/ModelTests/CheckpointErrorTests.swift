import Foundation
import Kernels
import Models
import Testing
import Weights

/// Every bad input gives an error naming the file and the field or tensor; nothing crashes.
@Suite("Checkpoint and config errors")
struct CheckpointErrorTests {
    /// A scratch copy of a fixture checkpoint, removed when the test ends.
    final class Scratch {
        let url: URL
        init(_ fixture: String = "base_f32") throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("glm-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: Fixtures.directory(fixture), to: url)
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        var config: URL { url.appendingPathComponent("config.json") }
        var weights: URL { url.appendingPathComponent("model.safetensors") }

        func editConfig(_ edit: (inout [String: Any]) -> Void) throws {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as! [String: Any]
            edit(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: config)
        }

        /// Rewrites the safetensors header; offsets are relative to the data section, so the
        /// tensor bytes follow the new header unchanged.
        func editHeader(_ edit: (inout [String: Any]) -> Void) throws {
            let data = try Data(contentsOf: weights)
            let length = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + length)) as! [String: Any]
            edit(&header)
            let json = try JSONSerialization.data(withJSONObject: header)
            let prefix = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
            try (prefix + json + data.suffix(from: 8 + length)).write(to: weights)
        }

        func load() throws -> GLM4MoEModel { try GLM4MoEModel(directory: url, backend: ReferenceBackend()) }
    }

    @Test("a missing required config field is named with the file")
    func missingField() throws {
        let s = try Scratch()
        try s.editConfig { $0.removeValue(forKey: "hidden_size") }
        #expect(throws: ModelError.missingField(field: "hidden_size", file: s.config.path)) { try s.load() }
    }

    @Test("an unknown architecture is rejected")
    func unknownArchitecture() throws {
        let s = try Scratch()
        try s.editConfig { $0["architectures"] = ["LlamaForCausalLM"] }
        #expect(throws: ModelError.unsupportedArchitecture(found: "LlamaForCausalLM", file: s.config.path,
                                                           supported: ["Glm4MoeForCausalLM"])) { try s.load() }
    }

    @Test("heads not divisible by KV heads is an invalid value")
    func headsNotDivisible() throws {
        let s = try Scratch()
        try s.editConfig { $0["num_key_value_heads"] = 3 }
        #expect {
            try s.load()
        } throws: { error in
            guard case ModelError.invalidField(let field, let file, let reason) = error else { return false }
            return field == "num_attention_heads" && file == s.config.path && reason.contains("num_key_value_heads")
        }
    }

    @Test("a wrongly typed field names the field")
    func wrongType() throws {
        let s = try Scratch()
        try s.editConfig { $0["use_qk_norm"] = "yes" }
        #expect {
            try s.load()
        } throws: { error in
            guard case ModelError.invalidField(let field, _, _) = error else { return false }
            return field == "use_qk_norm"
        }
    }

    @Test("config.json that is not JSON")
    func garbageConfig() throws {
        let s = try Scratch()
        try Data("{not json".utf8).write(to: s.config)
        #expect(throws: ModelError.unreadableConfig(file: s.config.path, reason: "invalid JSON at byte 1: expected a key")) { try s.load() }
        try Data("[1, 2]".utf8).write(to: s.config)
        #expect(throws: ModelError.unreadableConfig(file: s.config.path, reason: "not a JSON object")) { try s.load() }
    }

    @Test("a truncated weights file names the file and the tensor that runs past its end")
    func truncated() throws {
        let s = try Scratch()
        let data = try Data(contentsOf: s.weights)
        try data.prefix(data.count - 100).write(to: s.weights)
        #expect {
            try s.load()
        } throws: { error in
            guard case WeightsError.corruptTensor(let path, let tensor, let reason) = error else { return false }
            return path == s.weights.path && !tensor.isEmpty && reason.contains("truncated")
        }
    }

    @Test("a corrupt header length")
    func corruptHeader() throws {
        let s = try Scratch()
        var data = try Data(contentsOf: s.weights)
        data.replaceSubrange(0..<8, with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])
        try data.write(to: s.weights)
        #expect {
            try s.load()
        } throws: { error in
            guard case WeightsError.corruptHeader(let path, _) = error else { return false }
            return path == s.weights.path
        }
    }

    @Test("a file shorter than the header length field")
    func tinyFile() throws {
        let s = try Scratch()
        try Data([1, 2, 3]).write(to: s.weights)
        #expect {
            try s.load()
        } throws: { error in
            guard case WeightsError.corruptHeader(let path, _) = error else { return false }
            return path == s.weights.path
        }
    }

    @Test("a missing tensor is named")
    func missingTensor() throws {
        let s = try Scratch()
        try s.editHeader { $0.removeValue(forKey: "model.layers.1.self_attn.o_proj.weight") }
        #expect(throws: WeightsError.missingTensor(name: "model.layers.1.self_attn.o_proj.weight", directory: s.url.path)) {
            try s.load()
        }
    }

    @Test("a tensor of the wrong shape is named with both shapes")
    func wrongShape() throws {
        let s = try Scratch()
        var expected: [Int] = []
        try s.editHeader { header in
            var entry = header["model.layers.0.self_attn.o_proj.weight"] as! [String: Any]
            expected = entry["shape"] as! [Int]
            entry["shape"] = [expected[1], expected[0]]
            header["model.layers.0.self_attn.o_proj.weight"] = entry
        }
        #expect(throws: WeightsError.wrongShape(path: s.weights.path, tensor: "model.layers.0.self_attn.o_proj.weight",
                                                expected: expected, found: [expected[1], expected[0]])) { try s.load() }
    }

    @Test("an integer tensor where weights belong")
    func unsupportedDType() throws {
        let s = try Scratch()
        try s.editHeader { header in
            var entry = header["model.norm.weight"] as! [String: Any]
            entry["dtype"] = "I32"
            header["model.norm.weight"] = entry
        }
        #expect(throws: WeightsError.unsupportedDType(path: s.weights.path, tensor: "model.norm.weight", dtype: "I32")) {
            try s.load()
        }
    }

    @Test("an unknown dtype string")
    func unknownDType() throws {
        let s = try Scratch()
        try s.editHeader { header in
            var entry = header["model.norm.weight"] as! [String: Any]
            entry["dtype"] = "Q4"
            header["model.norm.weight"] = entry
        }
        #expect(throws: WeightsError.unsupportedDType(path: s.weights.path, tensor: "model.norm.weight", dtype: "Q4")) {
            try s.load()
        }
    }

    @Test("an extra tensor is reported, not used")
    func extraTensor() throws {
        let s = try Scratch()
        try s.editHeader { header in
            header["model.layers.0.surprise.weight"] = header["model.norm.weight"]
            header.removeValue(forKey: "__metadata__")
        }
        // Two names now share bytes; the model binds one and reports the other.
        let model = try s.load()
        #expect(model.unusedTensorNames == ["model.layers.0.surprise.weight"])
    }

    @Test("a shard listed in the index but missing on disk")
    func missingShard() throws {
        let s = try Scratch("sharded")
        let shard = try FileManager.default.contentsOfDirectory(atPath: s.url.path).filter { $0.hasSuffix(".safetensors") }.sorted().last!
        try FileManager.default.removeItem(at: s.url.appendingPathComponent(shard))
        #expect(throws: WeightsError.fileNotFound(path: s.url.appendingPathComponent(shard).path)) { try s.load() }
    }

    @Test("a folder without weights")
    func noWeights() throws {
        let s = try Scratch()
        try FileManager.default.removeItem(at: s.weights)
        #expect(throws: WeightsError.fileNotFound(path: s.weights.path)) { try s.load() }
    }

    @Test("token ids outside the vocabulary are rejected")
    func tokenOutOfRange() throws {
        let model = try Fixtures.model("base_f32")
        #expect(throws: ModelError.tokenOutOfRange(token: model.config.vocabSize, vocabularySize: model.config.vocabSize)) {
            _ = try allLogits(model, [1, model.config.vocabSize])
        }
    }
}
