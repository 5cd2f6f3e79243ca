import Foundation
import OrderedJSON

/// How a checkpoint's linear weights are quantised.
public enum WeightQuantization: Equatable, Sendable {
    case none
    /// compressed-tensors float-quantized FP8: `weight_scale` [out, 1] per output row.
    case fp8PerChannel
    /// DeepSeek-style block FP8: `weight_scale_inv` [ceil(out/b), ceil(in/b)].
    case fp8Block(size: Int)
}

/// `config.json` of a `Glm4MoeForCausalLM` checkpoint (spec §1). Defaults are those of HF
/// transformers' `Glm4MoeConfig`; the structural sizes have none and must be present.
public struct GLM4MoEConfiguration: Equatable, Sendable {
    public static let architectures = ["Glm4MoeForCausalLM"]
    public static let modelTypes = ["glm4_moe"]

    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var partialRotaryFactor: Double
    public var ropeTheta: Double
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    public var attentionBias: Bool
    public var useQKNorm: Bool
    public var moeIntermediateSize: Int
    public var nRoutedExperts: Int
    public var nSharedExperts: Int
    public var numExpertsPerTok: Int
    public var nGroup: Int
    public var topkGroup: Int
    public var normTopkProb: Bool
    public var routedScalingFactor: Double
    public var firstKDenseReplace: Int
    public var tieWordEmbeddings: Bool
    public var numNextnPredictLayers: Int
    public var hiddenAct: String
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    public var bosTokenId: Int?
    public var quantization: WeightQuantization

    /// Rotary dims per head (the first `rotaryDim` of `headDim` rotate).
    public var rotaryDim: Int { Int(Double(headDim) * partialRotaryFactor) }

    public static func load(directory: URL) throws -> GLM4MoEConfiguration {
        let url = directory.appendingPathComponent("config.json")
        var config = try GLM4MoEConfiguration(JSONConfig(url: url))
        // generation_config.json's eos list is what generation stops on, when present.
        let generationURL = directory.appendingPathComponent("generation_config.json")
        if FileManager.default.fileExists(atPath: generationURL.path) {
            let generation = try JSONConfig(url: generationURL)
            let eos = try generation.intList("eos_token_id")
            try config.checkTokenIds(eos, field: "eos_token_id", file: generation.file)
            // Read for their range only: generation never uses them.
            try config.checkTokenIds(generation.int("bos_token_id").map { [$0] } ?? [], field: "bos_token_id", file: generation.file)
            try config.checkTokenIds(generation.int("pad_token_id").map { [$0] } ?? [], field: "pad_token_id", file: generation.file)
            if !eos.isEmpty { config.eosTokenIds = eos }
        }
        return config
    }

    /// Token ids from a file must name rows of the embedding. transformers only warns about a
    /// negative `eos_token_id` and never stops on one beyond the vocabulary; here either is a
    /// mistake in the file, so it is refused with the file and field named.
    func checkTokenIds(_ ids: [Int], field: String, file: String) throws {
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabSize }) {
            throw ModelError.invalidField(field: field, file: file,
                                          reason: "token id \(bad) is outside the vocabulary (0..<\(vocabSize), vocab_size)")
        }
    }

    public init(json data: Data, file: String = "config.json") throws {
        try self.init(JSONConfig(data: data, file: file))
    }

    init(_ c: JSONConfig) throws {
        let architectures = try c.strings("architectures")
        let modelType = try c.string("model_type")
        if let unsupported = architectures.first(where: { !Self.architectures.contains($0) }) {
            throw ModelError.unsupportedArchitecture(found: unsupported, file: c.file, supported: Self.architectures)
        }
        if let modelType, !Self.modelTypes.contains(modelType) {
            throw ModelError.unsupportedArchitecture(found: modelType, file: c.file, supported: Self.modelTypes)
        }
        if architectures.isEmpty && modelType == nil { throw ModelError.missingField(field: "architectures", file: c.file) }

        // transformers v5 moves RoPE settings into `rope_parameters`.
        let rope = try c.object("rope_parameters")
        vocabSize = try c.requiredInt("vocab_size")
        hiddenSize = try c.requiredInt("hidden_size")
        numHiddenLayers = try c.requiredInt("num_hidden_layers")
        numAttentionHeads = try c.requiredInt("num_attention_heads")
        intermediateSize = try c.int("intermediate_size", default: 10944)
        numKeyValueHeads = try c.int("num_key_value_heads", default: numAttentionHeads)
        // transformers reads `getattr(config, "head_dim", hidden_size // num_attention_heads)`.
        headDim = try c.int("head_dim", default: numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        partialRotaryFactor = try rope?.double("partial_rotary_factor", default: 0.5) ?? c.double("partial_rotary_factor", default: 0.5)
        ropeTheta = try rope?.double("rope_theta", default: 10000) ?? c.double("rope_theta", default: 10000)
        maxPositionEmbeddings = try c.int("max_position_embeddings", default: 131072)
        rmsNormEps = try c.double("rms_norm_eps", default: 1e-5)
        attentionBias = try c.bool("attention_bias", default: false)
        useQKNorm = try c.bool("use_qk_norm", default: false)
        moeIntermediateSize = try c.int("moe_intermediate_size", default: 1408)
        nRoutedExperts = try c.int("n_routed_experts") ?? c.int("num_experts", default: 128)
        nSharedExperts = try c.int("n_shared_experts", default: 1)
        numExpertsPerTok = try c.int("num_experts_per_tok", default: 8)
        nGroup = try c.int("n_group", default: 1)
        topkGroup = try c.int("topk_group", default: 1)
        normTopkProb = try c.bool("norm_topk_prob", default: true)
        routedScalingFactor = try c.double("routed_scaling_factor", default: 1.0)
        firstKDenseReplace = try c.int("first_k_dense_replace", default: 1)
        tieWordEmbeddings = try c.bool("tie_word_embeddings", default: false)
        numNextnPredictLayers = try c.int("num_nextn_predict_layers", default: 0)
        hiddenAct = try c.string("hidden_act") ?? "silu"
        eosTokenIds = try c.intList("eos_token_id")
        padTokenId = try c.int("pad_token_id")
        bosTokenId = try c.int("bos_token_id")
        quantization = try Self.quantization(c)
        try validate(file: c.file, ropeScaling: rope?.object["rope_type"] ?? c.object["rope_scaling"])
    }

    private static func quantization(_ c: JSONConfig) throws -> WeightQuantization {
        guard let q = try c.object("quantization_config") else { return .none }
        let method = try q.string("quant_method") ?? ""
        switch method {
        case "fp8":
            guard case .array(let sizes)? = q.object["weight_block_size"] else {
                throw ModelError.invalidField(field: "quantization_config.weight_block_size", file: c.file,
                                              reason: "expected [block, block] for quant_method \"fp8\"")
            }
            let values = sizes.compactMap(\.intValue)
            guard values.count == 2, values[0] == values[1], values[0] > 0, values[0] <= 1 << 16 else {
                throw ModelError.invalidField(field: "quantization_config.weight_block_size", file: c.file,
                                              reason: "expected two equal sizes in 1...65536, found \(sizes.map(\.text))")
            }
            return .fp8Block(size: values[0])
        case "compressed-tensors":
            return .fp8PerChannel
        default:
            throw ModelError.invalidField(field: "quantization_config.quant_method", file: c.file,
                                          reason: "unsupported \"\(method)\"; supported: \"fp8\" (block), \"compressed-tensors\" (FP8 per channel)")
        }
    }

    private func validate(file: String, ropeScaling: JSONValue?) throws {
        func check(_ ok: Bool, _ field: String, _ reason: String) throws {
            if !ok { throw ModelError.invalidField(field: field, file: file, reason: reason) }
        }
        // Upper bounds far above any real model keep every size product (cache, shapes, buffers)
        // inside Int, whatever the file says; the tensors' shapes must then match these sizes.
        for (field, value, limit) in [("vocab_size", vocabSize, 1 << 24), ("hidden_size", hiddenSize, 1 << 20),
                                      ("num_hidden_layers", numHiddenLayers, 1 << 16),
                                      ("num_attention_heads", numAttentionHeads, 1 << 16),
                                      ("num_key_value_heads", numKeyValueHeads, 1 << 16), ("head_dim", headDim, 1 << 16),
                                      ("intermediate_size", intermediateSize, 1 << 24),
                                      ("moe_intermediate_size", moeIntermediateSize, 1 << 24),
                                      ("max_position_embeddings", maxPositionEmbeddings, 1 << 32)] {
            try check(value > 0 && value <= limit, field, "must be in 1...\(limit), found \(value)")
        }
        for (field, value, limit) in [("n_routed_experts", nRoutedExperts, 1 << 16), ("n_shared_experts", nSharedExperts, 1 << 10),
                                      ("num_experts_per_tok", numExpertsPerTok, 1 << 16), ("n_group", nGroup, 1 << 16),
                                      ("topk_group", topkGroup, 1 << 16), ("num_nextn_predict_layers", numNextnPredictLayers, 1 << 10)] {
            try check(value >= 0 && value <= limit, field, "must be in 0...\(limit), found \(value)")
        }
        for (field, value) in [("rope_theta", ropeTheta), ("rms_norm_eps", rmsNormEps), ("routed_scaling_factor", routedScalingFactor)] {
            try check(value.isFinite, field, "must be a finite number, found \(value)")
        }
        try checkTokenIds(eosTokenIds, field: "eos_token_id", file: file)
        try checkTokenIds(bosTokenId.map { [$0] } ?? [], field: "bos_token_id", file: file)
        try checkTokenIds(padTokenId.map { [$0] } ?? [], field: "pad_token_id", file: file)
        try check(numAttentionHeads % numKeyValueHeads == 0, "num_attention_heads",
                  "\(numAttentionHeads) is not divisible by num_key_value_heads \(numKeyValueHeads)")
        try check(partialRotaryFactor > 0 && partialRotaryFactor <= 1, "partial_rotary_factor", "must be in (0, 1], found \(partialRotaryFactor)")
        try check(rotaryDim % 2 == 0 && rotaryDim > 0, "partial_rotary_factor",
                  "head_dim \(headDim) × \(partialRotaryFactor) = \(rotaryDim) rotary dims, which must be even and positive")
        try check(ropeTheta > 0, "rope_theta", "must be positive, found \(ropeTheta)")
        try check(rmsNormEps > 0, "rms_norm_eps", "must be positive, found \(rmsNormEps)")
        try check(firstKDenseReplace >= 0, "first_k_dense_replace", "must not be negative, found \(firstKDenseReplace)")
        try check(hiddenAct == "silu", "hidden_act", "only \"silu\" is supported, found \"\(hiddenAct)\"")
        // Checked even when every main layer is dense: the MTP layer, if the checkpoint has one, is MoE.
        try check(nRoutedExperts > 0, "n_routed_experts", "must be positive, found \(nRoutedExperts)")
        try check(numExpertsPerTok > 0 && numExpertsPerTok <= nRoutedExperts, "num_experts_per_tok",
                  "must be in 1...n_routed_experts (\(nRoutedExperts)), found \(numExpertsPerTok)")
        try check(nGroup > 0 && nRoutedExperts % nGroup == 0, "n_group",
                  "n_routed_experts \(nRoutedExperts) is not divisible by n_group \(nGroup)")
        try check(topkGroup > 0 && topkGroup <= nGroup, "topk_group", "must be in 1...n_group (\(nGroup)), found \(topkGroup)")
        try check(numExpertsPerTok <= topkGroup * (nRoutedExperts / nGroup), "num_experts_per_tok",
                  "\(numExpertsPerTok) experts cannot be chosen from topk_group \(topkGroup) groups of \(nRoutedExperts / nGroup)")
        switch ropeScaling {
        case nil, .null?: break
        case .string("default")?: break
        case .object(let o)? where (o["rope_type"] ?? o["type"]).map({ if case .string("default") = $0 { true } else { false } }) ?? false: break
        default:
            throw ModelError.invalidField(field: "rope_scaling", file: file, reason: "only default RoPE is supported, found \(ropeScaling!.text)")
        }
    }
}
