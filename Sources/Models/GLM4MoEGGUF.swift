// GLM-4.5 family in GGUF (architecture `glm4moe`), as llama.cpp's `convert_hf_to_gguf.py` writes
// it (../shared/spec/gguf.md §2): the `glm4moe.*` keys become a config.json, and the `blk.N.*`
// tensors take their Hugging Face names, stacked experts split into one view per expert, so the
// model binds a GGUF exactly as it binds a safetensors checkpoint.
import Foundation
import Weights

extension GLM4MoEConfiguration {
    public static let ggufArchitecture = "glm4moe"

    /// The configuration a GGUF's metadata describes. Fields are checked as config.json's are;
    /// messages name the GGUF file and the Hugging Face field a key stands for.
    public init(gguf: GGUFModelFiles) throws {
        let file = gguf.path
        let architecture = gguf["general.architecture"]?.string
        guard architecture == Self.ggufArchitecture else {
            throw ModelError.unsupportedArchitecture(found: architecture ?? "(no general.architecture)", file: file,
                                                     supported: [Self.ggufArchitecture])
        }
        func key(_ name: String) -> String { "\(Self.ggufArchitecture).\(name)" }
        func int(_ name: String) throws -> Int? {
            guard let value = gguf[key(name)] else { return nil }
            guard let v = value.int else {
                throw ModelError.invalidField(field: key(name), file: file, reason: "expected an integer, found \(value.typeName)")
            }
            return v
        }
        func double(_ name: String) throws -> Double? {
            guard let value = gguf[key(name)] else { return nil }
            guard let v = value.double else {
                throw ModelError.invalidField(field: key(name), file: file, reason: "expected a number, found \(value.typeName)")
            }
            // The converter wrote config.json's decimal as an f32: read it back as that decimal (1e-5, not 9.99999974e-6).
            if case .float32(let f) = value, let decimal = Double(String(f)) { return decimal }
            return v
        }
        func required(_ name: String) throws -> Int {
            guard let v = try int(name) else { throw ModelError.missingField(field: key(name), file: file) }
            return v
        }
        if let gating = try int("expert_gating_func"), gating != 2 {
            throw ModelError.invalidField(field: key("expert_gating_func"), file: file,
                                          reason: "GLM-4.5 routes with sigmoid (2); \(gating) is not supported")
        }
        guard let embedding = gguf.tensors["token_embd.weight"], embedding.shape.count == 2 else {
            throw WeightsError.missingTensor(name: "token_embd.weight", directory: file)
        }
        let blocks = try required("block_count"), nextn = try int("nextn_predict_layers") ?? 0
        let heads = try required("attention.head_count")
        let headDim = try int("attention.key_length") ?? (heads > 0 ? try required("embedding_length") / heads : 0)
        var json: [String: Any] = [
            "architectures": Self.architectures, "model_type": Self.modelTypes[0],
            "vocab_size": embedding.shape[0],
            "hidden_size": try required("embedding_length"),
            "num_hidden_layers": blocks - nextn,
            "num_nextn_predict_layers": nextn,
            "num_attention_heads": heads,
            "num_key_value_heads": try int("attention.head_count_kv") ?? heads,
            "head_dim": headDim,
            "max_position_embeddings": try int("context_length") ?? 131072,
            "rms_norm_eps": try double("attention.layer_norm_rms_epsilon") ?? 1e-5,
            "rope_theta": try double("rope.freq_base") ?? 10000,
            "attention_bias": gguf.tensors["blk.0.attn_q.bias"] != nil,
            "use_qk_norm": gguf.tensors["blk.0.attn_q_norm.weight"] != nil,
            "tie_word_embeddings": gguf.tensors["output.weight"] == nil,
        ]
        if let rotary = try int("rope.dimension_count"), headDim > 0 { json["partial_rotary_factor"] = Double(rotary) / Double(headDim) }
        for (field, name) in [("intermediate_size", "feed_forward_length"), ("moe_intermediate_size", "expert_feed_forward_length"),
                              ("n_routed_experts", "expert_count"), ("num_experts_per_tok", "expert_used_count"),
                              ("n_shared_experts", "expert_shared_count"), ("first_k_dense_replace", "leading_dense_block_count"),
                              ("n_group", "expert_group_count"), ("topk_group", "expert_group_used_count")] {
            if let v = try int(name) { json[field] = v }
        }
        if let v = try double("expert_weights_scale") { json["routed_scaling_factor"] = v }
        if let v = gguf[key("expert_weights_norm")] { json["norm_topk_prob"] = v.bool ?? (v.int.map { $0 != 0 } ?? true) }
        // Generation ends on eos, end-of-turn and end-of-message, as llama.cpp's end-of-generation set does.
        let stops = ["eos", "eot", "eom"].compactMap { gguf["tokenizer.ggml.\($0)_token_id"]?.int }
        json["eos_token_id"] = stops.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        if let bos = gguf["tokenizer.ggml.bos_token_id"]?.int { json["bos_token_id"] = bos }
        if let pad = gguf["tokenizer.ggml.padding_token_id"]?.int { json["pad_token_id"] = pad }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        try self.init(JSONConfig(data: data, file: "\(file) (glm4moe metadata)"))
    }
}

extension Checkpoint {
    /// The tensors of a `glm4moe` GGUF under their Hugging Face names. Tensors the mapping does
    /// not know keep their GGUF names, so the model reports them as unused.
    public static func glm4moe(gguf: GGUFModelFiles) throws -> Checkpoint {
        var tensors: [String: TensorView] = [:]
        for name in gguf.tensorNames {
            let view = gguf.tensors[name]!
            if let experts = GLM4MoEGGUFNames.stackedExperts(name) {
                guard view.shape.count == 3 else {
                    throw WeightsError.corruptTensor(path: view.path, tensor: name,
                                                     reason: "expected stacked experts [E, out, in], found shape \(view.shape)")
                }
                let (count, rows, cols) = (view.shape[0], view.shape[1], view.shape[2])
                // One view per expert: a count the config could not have must not size that loop
                // (an empty [E, 0, in] tensor holds no bytes, whatever E says).
                guard count <= GLM4MoEGGUFNames.maxExperts else {
                    throw WeightsError.corruptTensor(path: view.path, tensor: name,
                                                     reason: "\(count) stacked experts, more than the \(GLM4MoEGGUFNames.maxExperts) a model may have")
                }
                let bytes = view.byteCount / max(count, 1)
                for e in 0..<count {
                    let expertName = experts(e)
                    tensors[expertName] = TensorView(name: "\(name)[expert \(e)]", dtype: view.dtype, shape: [rows, cols],
                                                     data: view.data + e * bytes, byteCount: bytes, path: view.path)
                }
            } else {
                let hfName = GLM4MoEGGUFNames.huggingFace(name) ?? name
                tensors[hfName] = view
            }
        }
        return Checkpoint(gguf: gguf, tensors: tensors)
    }
}

/// llama.cpp's tensor names for `glm4moe` (gguf-py `tensor_mapping.py`), and the Hugging Face
/// names they stand for.
enum GLM4MoEGGUFNames {
    /// As config.json's `n_routed_experts` limit.
    static let maxExperts = 1 << 16
    static let global = ["token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                         "output.weight": "lm_head.weight"]
    static let perBlock = [
        "attn_norm.weight": "input_layernorm.weight",
        "attn_q.weight": "self_attn.q_proj.weight", "attn_q.bias": "self_attn.q_proj.bias",
        "attn_k.weight": "self_attn.k_proj.weight", "attn_k.bias": "self_attn.k_proj.bias",
        "attn_v.weight": "self_attn.v_proj.weight", "attn_v.bias": "self_attn.v_proj.bias",
        "attn_output.weight": "self_attn.o_proj.weight",
        "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
        "post_attention_norm.weight": "post_attention_layernorm.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight",
        "ffn_gate_inp.weight": "mlp.gate.weight", "exp_probs_b.bias": "mlp.gate.e_score_correction_bias",
        "ffn_gate_shexp.weight": "mlp.shared_experts.gate_proj.weight",
        "ffn_up_shexp.weight": "mlp.shared_experts.up_proj.weight",
        "ffn_down_shexp.weight": "mlp.shared_experts.down_proj.weight",
        "nextn.eh_proj.weight": "eh_proj.weight", "nextn.embed_tokens.weight": "embed_tokens.weight",
        "nextn.enorm.weight": "enorm.weight", "nextn.hnorm.weight": "hnorm.weight",
        "nextn.shared_head_head.weight": "shared_head.head.weight",
        "nextn.shared_head_norm.weight": "shared_head.norm.weight",
    ]
    static let experts = ["ffn_gate_exps.weight": "gate_proj.weight", "ffn_up_exps.weight": "up_proj.weight",
                          "ffn_down_exps.weight": "down_proj.weight"]

    /// `blk.N.rest` as (N, rest).
    static func block(_ name: String) -> (Int, Substring)? {
        guard name.hasPrefix("blk.") else { return nil }
        let rest = name.dropFirst(4)
        guard let dot = rest.firstIndex(of: "."), let n = Int(rest[..<dot]), n >= 0 else { return nil }
        return (n, rest[rest.index(after: dot)...])
    }

    static func huggingFace(_ name: String) -> String? {
        if let g = global[name] { return g }
        guard let (n, rest) = block(name), let hf = perBlock[String(rest)] else { return nil }
        return "model.layers.\(n).\(hf)"
    }

    /// For a stacked expert tensor, the Hugging Face name of expert e.
    static func stackedExperts(_ name: String) -> ((Int) -> String)? {
        guard let (n, rest) = block(name), let hf = experts[String(rest)] else { return nil }
        return { "model.layers.\(n).mlp.experts.\($0).\(hf)" }
    }
}
