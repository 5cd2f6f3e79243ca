import Foundation
import Kernels
import Models
import Testing
import Weights

/// Issue 19: hostile or broken checkpoint files give named errors, never a trap, an unbounded
/// allocation or a model that silently generates garbage.
@Suite("Hostile checkpoints")
struct HostileCheckpointTests {
    typealias Scratch = CheckpointErrorTests.Scratch

    /// Expects `ModelError.invalidField` for `field` in `file`, with `words` in the reason.
    static func expectInvalid(_ field: String, in file: URL, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation,
                              _ load: () throws -> Void) {
        do {
            try load()
            Issue.record("loaded; expected invalid '\(field)'", sourceLocation: sourceLocation)
        } catch let ModelError.invalidField(f, path, reason) {
            #expect(f == field && path == file.path, "\(f) in \(path): \(reason)", sourceLocation: sourceLocation)
            for word in words { #expect(reason.contains(word), "\(reason)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("expected invalid '\(field)', got \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: - Safetensors header

    @Test("a header length of 2^63 or more is a named error (it trapped glm generate and glm serve)")
    func hugeHeaderLength() throws {
        for length in [UInt64(1) << 63, UInt64.max] {
            let s = try Scratch()
            var data = try Data(contentsOf: s.weights)
            withUnsafeBytes(of: length.littleEndian) { data.replaceSubrange(0..<8, with: $0) }
            try data.write(to: s.weights)
            #expect {
                try s.load()
            } throws: { error in
                guard case WeightsError.corruptHeader(let path, let reason) = error else { return false }
                return path == s.weights.path && reason.contains("\(length)")
            }
        }
    }

    @Test("data_offsets past the end of the data name the tensor (the message used to add unchecked)")
    func hugeOffsets() throws {
        let s = try Scratch()
        try s.editHeader { header in
            var entry = header["model.norm.weight"] as! [String: Any]
            entry["data_offsets"] = [Int.max - 4, Int.max]
            header["model.norm.weight"] = entry
        }
        #expect {
            try s.load()
        } throws: { error in
            guard case WeightsError.corruptTensor(let path, "model.norm.weight", let reason) = error else { return false }
            return path == s.weights.path && reason.contains("\(Int.max)")
        }
    }

    // MARK: - config.json ranges

    static let outOfRange: [(String, Int)] = [
        ("num_hidden_layers", -1), ("num_hidden_layers", 1_000_000_000), ("hidden_size", 0), ("hidden_size", 1 << 40),
        ("vocab_size", 0), ("vocab_size", Int.max), ("num_attention_heads", 1 << 20), ("max_position_embeddings", 1 << 50),
        ("moe_intermediate_size", -8), ("n_routed_experts", 1 << 20), ("n_shared_experts", 1 << 20), ("n_shared_experts", -1),
        ("num_nextn_predict_layers", -1), ("num_nextn_predict_layers", 1 << 20),
    ]

    @Test("structural sizes out of range are named", arguments: outOfRange)
    func sizeOutOfRange(field: String, value: Int) throws {
        let s = try Scratch()
        try s.editConfig { $0[field] = value }
        Self.expectInvalid(field, in: s.config, "\(value)") { _ = try s.load() }
    }

    @Test("more experts per token than experts")
    func tooManyExpertsPerToken() throws {
        let s = try Scratch()
        try s.editConfig { $0["num_experts_per_tok"] = 9 }
        Self.expectInvalid("num_experts_per_tok", in: s.config, "n_routed_experts (8)") { _ = try s.load() }
    }

    @Test("MoE settings are checked even when every layer is dense (the MTP layer is MoE)")
    func moeSettingsOfDenseModel() throws {
        let s = try Scratch()
        try s.editConfig { $0["first_k_dense_replace"] = 99; $0["n_group"] = 0 }
        Self.expectInvalid("n_group", in: s.config) { _ = try s.load() }
    }

    @Test("non-finite floats are refused", arguments: ["rope_theta", "rms_norm_eps", "routed_scaling_factor"])
    func nonFinite(field: String) throws {
        let s = try Scratch()
        // Python's json (and so config files written by transformers) allows Infinity.
        try s.editConfig { $0.removeValue(forKey: field) }
        let text = try String(contentsOf: s.config, encoding: .utf8)
        try ("{\"\(field)\": Infinity, " + text.dropFirst()).write(to: s.config, atomically: true, encoding: .utf8)
        Self.expectInvalid(field, in: s.config, "finite") { _ = try s.load() }
    }

    // MARK: - Token ids

    @Test("an eos_token_id outside the vocabulary in config.json is named", arguments: [[160], [157, 100_000], [-1]])
    func eosOutOfRangeInConfig(ids: [Int]) throws {
        let s = try Scratch()
        try FileManager.default.removeItem(at: s.url.appendingPathComponent("generation_config.json"))
        try s.editConfig { $0["eos_token_id"] = ids }
        let bad = ids.first { $0 < 0 || $0 >= 160 }!
        Self.expectInvalid("eos_token_id", in: s.config, "token id \(bad)", "0..<160") { _ = try s.load() }
    }

    @Test("an eos_token_id outside the vocabulary in generation_config.json names that file")
    func eosOutOfRangeInGenerationConfig() throws {
        let s = try Scratch()
        let generation = s.url.appendingPathComponent("generation_config.json")
        try Data(#"{"eos_token_id": [157, 4096], "pad_token_id": 157}"#.utf8).write(to: generation)
        Self.expectInvalid("eos_token_id", in: generation, "token id 4096") { _ = try s.load() }
        try Data(#"{"eos_token_id": 159, "bos_token_id": 160}"#.utf8).write(to: generation)
        Self.expectInvalid("bos_token_id", in: generation, "token id 160") { _ = try s.load() }
        try Data(#"{"eos_token_id": 159}"#.utf8).write(to: generation)
        #expect(try s.load().config.eosTokenIds == [159])
    }

    @Test("bos and pad ids outside the vocabulary", arguments: ["bos_token_id", "pad_token_id"])
    func otherIdsOutOfRange(field: String) throws {
        let s = try Scratch()
        try s.editConfig { $0[field] = 160 }
        Self.expectInvalid(field, in: s.config, "token id 160") { _ = try s.load() }
    }

    // MARK: - FP8 scales

    @Test("a per-channel FP8 scale of the wrong shape")
    func perChannelScaleShape() throws {
        let s = try Scratch("fp8_channel")
        let name = "model.layers.0.mlp.down_proj.weight_scale"
        try s.editHeader { header in
            var entry = header[name] as! [String: Any]
            entry["shape"] = [1, 48]
            header[name] = entry
        }
        #expect(throws: WeightsError.wrongShape(path: s.weights.path, tensor: name, expected: [48, 1], found: [1, 48])) {
            try s.load()
        }
    }

    @Test("a block FP8 scale of the wrong shape")
    func blockScaleShape() throws {
        let s = try Scratch("fp8_block")
        let name = "model.layers.0.mlp.down_proj.weight_scale_inv"
        try s.editHeader { header in
            var entry = header[name] as! [String: Any]
            entry["shape"] = [5, 3]
            header[name] = entry
        }
        #expect(throws: WeightsError.wrongShape(path: s.weights.path, tensor: name, expected: [3, 5], found: [5, 3])) {
            try s.load()
        }
    }

    @Test("an FP8 block size beyond reason is refused before the scale shapes are computed")
    func hugeBlockSize() throws {
        let s = try Scratch("fp8_block")
        try s.editConfig { config in
            var q = config["quantization_config"] as! [String: Any]
            q["weight_block_size"] = [Int.max, Int.max]
            config["quantization_config"] = q
        }
        Self.expectInvalid("quantization_config.weight_block_size", in: s.config, "1...65536") { _ = try s.load() }
    }

    // MARK: - NaN and infinity in the weights

    /// Overwrites elements of f32 tensor `name` (all of them, or `count`) with `value`.
    static func poison(_ s: Scratch, _ name: String, with value: Float = .nan, count: Int? = nil) throws {
        var data = try Data(contentsOf: s.weights)
        let length = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + length)) as! [String: Any]
        let entry = header[name] as! [String: Any]
        #expect(entry["dtype"] as? String == "F32")
        let offsets = entry["data_offsets"] as! [Int]
        let n = count ?? (offsets[1] - offsets[0]) / 4
        for i in 0..<n {
            withUnsafeBytes(of: value.bitPattern.littleEndian) {
                data.replaceSubrange(8 + length + offsets[0] + 4 * i ..< 8 + length + offsets[0] + 4 * i + 4, with: $0)
            }
        }
        try data.write(to: s.weights)
    }

    @Test("an all-NaN lm_head, embedding or router is found at load and named",
          arguments: ["lm_head.weight", "model.embed_tokens.weight", "model.layers.1.mlp.gate.weight"])
    func nanTensor(name: String) throws {
        let s = try Scratch()
        try Self.poison(s, name)
        #expect {
            try s.load()
        } throws: { error in
            guard case WeightsError.nonFinite(let path, let tensor, let nan, 0, let checked, let total) = error else { return false }
            return path == s.weights.path && tensor == name && nan == checked && checked == total
                && "\(error)".contains("'\(name)' has \(nan) NaN values")
        }
        // The check can be turned off (the model then loads as before).
        _ = try GLM4MoEModel(directory: s.url, backend: ReferenceBackend(), weightCheck: .none)
    }

    @Test("one infinite element in a small tensor (a norm, the correction bias) is found by the default check",
          arguments: ["model.layers.0.input_layernorm.weight", "model.layers.2.mlp.gate.e_score_correction_bias"])
    func infiniteElement(name: String) throws {
        let s = try Scratch()
        try Self.poison(s, name, with: -.infinity, count: 1)
        #expect(throws: WeightsError.nonFinite(path: s.weights.path, tensor: name, nan: 0, infinity: 1,
                                               checked: try Self.elementCount(s, name), total: try Self.elementCount(s, name))) {
            try s.load()
        }
    }

    static func elementCount(_ s: Scratch, _ name: String) throws -> Int {
        try Checkpoint(directory: s.url).view(name)!.elementCount
    }

    @Test("a full check reads every element of every tensor the model uses")
    func fullCheck() throws {
        let model = try GLM4MoEModel(directory: Fixtures.directory("base_f32"), backend: ReferenceBackend(), weightCheck: .full)
        #expect(model.checkpoint.takenTensorNames.count == model.checkpoint.tensorNames.count)
    }
}
