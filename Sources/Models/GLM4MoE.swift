// GLM-4.5 family (`Glm4MoeForCausalLM`, model_type `glm4_moe`).
// Mirrors HF transformers `models/glm4_moe/modeling_glm4_moe.py` (4.57 / 5.x), computed in f32
// from weights in their stored dtype. Deliberate differences: activations stay f32 throughout
// (HF rounds to bf16 between ops when run in bf16); group-limited routing masks excluded
// experts with -inf as transformers 5.x does.
import Foundation
import Kernels
import Weights

/// One decoder layer: pre-norm attention, then pre-norm dense MLP or MoE, each with a residual.
struct GLM4MoEDecoderLayer {
    enum FeedForward {
        case dense(GatedMLP)
        case moe(MoEBlock)
    }

    let inputNorm: [Float]          // [H]
    let postAttentionNorm: [Float]  // [H]
    let attention: Attention
    let feedForward: FeedForward

    init(_ loader: WeightLoader, prefix p: String, config c: GLM4MoEConfiguration, dense: Bool) throws {
        let H = c.hiddenSize
        inputNorm = try loader.vector("\(p).input_layernorm.weight", count: H)
        postAttentionNorm = try loader.vector("\(p).post_attention_layernorm.weight", count: H)
        attention = try Attention(loader, prefix: "\(p).self_attn", config: c)
        if dense {
            feedForward = .dense(try GatedMLP(loader, prefix: "\(p).mlp", hidden: H, intermediate: c.intermediateSize))
        } else {
            let E = c.nRoutedExperts, I = c.moeIntermediateSize
            let router = GroupedTopKRouter(
                gate: try loader.matrix("\(p).mlp.gate", rows: E, cols: H),
                correctionBias: try loader.vector("\(p).mlp.gate.e_score_correction_bias", count: E),
                topK: c.numExpertsPerTok, groups: c.nGroup, topKGroups: c.topkGroup,
                normalize: c.normTopkProb, scaling: Float(c.routedScalingFactor))
            let experts = try (0..<E).map { try GatedMLP(loader, prefix: "\(p).mlp.experts.\($0)", hidden: H, intermediate: I) }
            let shared = c.nSharedExperts > 0
                ? try GatedMLP(loader, prefix: "\(p).mlp.shared_experts", hidden: H, intermediate: I * c.nSharedExperts)
                : nil
            feedForward = .moe(MoEBlock(router: router, experts: experts, shared: shared))
        }
    }

    /// h: [T, H], updated in place.
    func callAsFunction(_ h: FloatBuffer, batch: ForwardBatch, layout: AttentionLayout, cache: PagedKVCache, layer: Int,
                        config c: GLM4MoEConfiguration, backend: ComputeBackend) {
        let T = batch.tokens.count, H = c.hiddenSize, eps = Float(c.rmsNormEps)
        let x = FloatBuffer(T * H), y = FloatBuffer(T * H)
        rmsNorm(h.pointer, rows: T, width: H, weight: inputNorm, eps: eps, into: x.pointer)
        attention(x.pointer, batch: batch, layout: layout, cache: cache, layer: layer, into: y.pointer, backend: backend)
        addInPlace(h.pointer, y.pointer, count: T * H)
        rmsNorm(h.pointer, rows: T, width: H, weight: postAttentionNorm, eps: eps, into: x.pointer)
        switch feedForward {
        case .dense(let mlp): mlp(x.pointer, tokens: T, into: y.pointer, backend: backend)
        case .moe(let moe): moe(x.pointer, tokens: T, hidden: H, into: y.pointer, backend: backend)
        }
        addInPlace(h.pointer, y.pointer, count: T * H)
    }
}

/// The multi-token-prediction ("nextn") layer at index num_hidden_layers (spec §4). Its weights
/// are bound and shape-checked here so speculative decoding can use them.
struct GLM4MoEMTPLayer {
    let embeddingNorm: [Float]      // enorm [H]
    let hiddenNorm: [Float]         // hnorm [H]
    let projection: WeightMatrix    // eh_proj [H, 2H]
    let decoder: GLM4MoEDecoderLayer
    let headNorm: [Float]           // shared_head.norm [H]

    init(_ loader: WeightLoader, index: Int, config c: GLM4MoEConfiguration) throws {
        let p = "model.layers.\(index)", H = c.hiddenSize
        embeddingNorm = try loader.vector("\(p).enorm.weight", count: H)
        hiddenNorm = try loader.vector("\(p).hnorm.weight", count: H)
        projection = try loader.matrix("\(p).eh_proj", rows: H, cols: 2 * H)
        decoder = try GLM4MoEDecoderLayer(loader, prefix: p, config: c, dense: false)
        headNorm = try loader.vector("\(p).shared_head.norm.weight", count: H)
        // Copies of the embedding and lm_head; engines use the main ones (spec §2.3).
        _ = try loader.checkpoint.optionalTensor("\(p).shared_head.head.weight", shape: [c.vocabSize, H])
        _ = try loader.checkpoint.optionalTensor("\(p).embed_tokens.weight", shape: [c.vocabSize, H])
    }
}

/// `Glm4MoeForCausalLM`: embeddings, decoder layers, final norm and lm_head over weights mapped
/// from a checkpoint folder.
public final class GLM4MoEModel: @unchecked Sendable {
    public let config: GLM4MoEConfiguration
    public let checkpoint: Checkpoint
    public let backend: ComputeBackend
    /// Checkpoint tensors no part of the model uses (reported, never silently used).
    public let unusedTensorNames: [String]
    public var hasMTPLayer: Bool { mtp != nil }

    let embedding: WeightMatrix  // [V, H]
    let layers: [GLM4MoEDecoderLayer]
    let finalNorm: [Float]       // [H]
    let lmHead: WeightMatrix     // [V, H]
    let mtp: GLM4MoEMTPLayer?

    /// Maps the checkpoint in `directory` (a Hugging Face folder, or a GGUF file, split part or
    /// folder holding one) and binds its tensors, shape-checked; then looks for NaN and infinity
    /// in them as `weightCheck` says (`WeightsError.nonFinite` names the tensor).
    public init(directory: URL, backend: ComputeBackend, weightCheck: WeightCheck = .sampled) throws {
        let c: GLM4MoEConfiguration
        if GGUFModelFiles.isGGUF(directory) {
            let gguf = try GGUFModelFiles(url: directory)
            c = try GLM4MoEConfiguration(gguf: gguf)
            checkpoint = try Checkpoint.glm4moe(gguf: gguf)
        } else {
            c = try GLM4MoEConfiguration.load(directory: directory)
            checkpoint = try Checkpoint(directory: directory)
        }
        config = c
        self.backend = backend
        let loader = WeightLoader(checkpoint: checkpoint, quantization: c.quantization)
        embedding = try WeightMatrix(checkpoint.tensor("model.embed_tokens.weight", shape: [c.vocabSize, c.hiddenSize]))
        layers = try (0..<c.numHiddenLayers).map {
            try GLM4MoEDecoderLayer(loader, prefix: "model.layers.\($0)", config: c, dense: $0 < c.firstKDenseReplace)
        }
        finalNorm = try loader.vector("model.norm.weight", count: c.hiddenSize)
        if c.tieWordEmbeddings && !checkpoint.contains("lm_head.weight") {
            lmHead = embedding
        } else {
            lmHead = try loader.matrix("lm_head", rows: c.vocabSize, cols: c.hiddenSize)
        }
        let mtpPrefix = "model.layers.\(c.numHiddenLayers)."
        if checkpoint.tensorNames.contains(where: { $0.hasPrefix(mtpPrefix) }) {
            mtp = try GLM4MoEMTPLayer(loader, index: c.numHiddenLayers, config: c)
        } else {
            mtp = nil
        }
        unusedTensorNames = checkpoint.untakenTensorNames
        try checkpoint.checkWeights(weightCheck)
    }

    /// A KV cache sized for `tokens` positions in total across sequences; with `includeMTP`,
    /// one more layer for the MTP head's own keys and values.
    public func makeCache(tokens: Int, blockSize: Int = 16, includeMTP: Bool = false) -> PagedKVCache {
        PagedKVCache(layers: config.numHiddenLayers + (includeMTP && mtp != nil ? 1 : 0), kvHeads: config.numKeyValueHeads,
                     headDim: config.headDim, blockSize: blockSize, blockCount: max(1, (tokens + blockSize - 1) / blockSize))
    }

    /// Runs one forward pass over `batch`, appending its tokens to their sequences' caches, and
    /// returns logits [vocab] for each of `batch.logitRows`.
    public func forward(_ batch: ForwardBatch, cache: PagedKVCache) throws -> [[Float]] {
        try forwardReturningHidden(batch, cache: cache).logits
    }

    /// `forward`, also returning final hidden states after `model.norm` [H], the input the MTP
    /// layer takes: of each logit row, or of `hiddenRows` (lm_head still runs on the logit rows only).
    public func forwardReturningHidden(_ batch: ForwardBatch, cache: PagedKVCache,
                                       hiddenRows: [Int]? = nil) throws -> (logits: [[Float]], hidden: [[Float]]) {
        let c = config, T = batch.tokens.count, H = c.hiddenSize
        guard T > 0 else { return ([], []) }
        let (layout, commit) = try prepare(batch, cache: cache)
        let h = FloatBuffer(T * H)  // [T, H] residual stream
        for t in 0..<T { embedding.row(batch.tokens[t], into: h.row(t, width: H)) }
        for (index, layer) in layers.enumerated() {
            layer(h, batch: batch, layout: layout, cache: cache, layer: index, config: c, backend: backend)
        }
        commit()
        let out = head(h, rows: batch.logitRows, norm: finalNorm)
        guard let hiddenRows else { return out }
        let normed = normedRows(h, rows: hiddenRows, norm: finalNorm)
        return (out.logits, (0..<hiddenRows.count).map { Array(UnsafeBufferPointer(start: normed.row($0, width: H), count: H)) })
    }

    /// The MTP ("nextn") layer (spec §4.1) over a batch whose token at position i is t_{i+1},
    /// given `previousHidden[t]`, the main model's normed hidden state at that position. Its keys
    /// and values go to the cache's extra layer (`makeCache(includeMTP: true)`), in the batch's
    /// own sequences. Returns logits predicting t_{i+2} for `batch.logitRows`, and those rows'
    /// hidden states after `shared_head.norm` (what a chained draft step takes as `previousHidden`).
    public func forwardMTP(_ batch: ForwardBatch, previousHidden: [[Float]],
                           cache: PagedKVCache) throws -> (logits: [[Float]], hidden: [[Float]]) {
        let c = config, T = batch.tokens.count, H = c.hiddenSize, eps = Float(c.rmsNormEps)
        guard let mtp, cache.layers > c.numHiddenLayers else { throw ModelError.noMTPLayer }
        precondition(previousHidden.count == T && previousHidden.allSatisfy { $0.count == H }, "one [H] hidden state per token")
        guard T > 0 else { return ([], []) }
        let (layout, commit) = try prepare(batch, cache: cache)
        let embedded = FloatBuffer(T * H), hidden = FloatBuffer(T * H), joined = FloatBuffer(T * 2 * H)
        for t in 0..<T {
            embedding.row(batch.tokens[t], into: embedded.row(t, width: H))
            hidden.row(t, width: H).update(from: previousHidden[t], count: H)
        }
        rmsNorm(embedded.pointer, rows: T, width: H, weight: mtp.embeddingNorm, eps: eps, into: embedded.pointer)
        rmsNorm(hidden.pointer, rows: T, width: H, weight: mtp.hiddenNorm, eps: eps, into: hidden.pointer)
        for t in 0..<T {  // [T, 2H]: embedding part first
            joined.row(t, width: 2 * H).update(from: embedded.row(t, width: H), count: H)
            (joined.row(t, width: 2 * H) + H).update(from: hidden.row(t, width: H), count: H)
        }
        let h = FloatBuffer(T * H)
        backend.matmul(mtp.projection, joined.pointer, tokens: T, h.pointer)  // [T, H]
        mtp.decoder(h, batch: batch, layout: layout, cache: cache, layer: c.numHiddenLayers, config: c, backend: backend)
        commit()
        return head(h, rows: batch.logitRows, norm: mtp.headNorm)
    }

    /// Checks the batch, reserves cache room for its new positions, and describes where each
    /// token's keys live. `commit` records the new lengths once the pass has succeeded.
    private func prepare(_ batch: ForwardBatch, cache: PagedKVCache) throws -> (AttentionLayout, commit: () -> Void) {
        let c = config, T = batch.tokens.count
        precondition(Set(batch.sequences.map(ObjectIdentifier.init)).count == batch.sequences.count,
                     "a sequence may appear only once in a batch")
        for token in batch.tokens where token < 0 || token >= c.vocabSize {
            throw ModelError.tokenOutOfRange(token: token, vocabularySize: c.vocabSize)
        }
        var newLength = batch.sequences.map(\.length)
        for t in 0..<T { newLength[batch.sequenceIndex[t]] = max(newLength[batch.sequenceIndex[t]], batch.positions[t] + 1) }
        for (s, sequence) in batch.sequences.enumerated() {
            if newLength[s] > c.maxPositionEmbeddings {
                throw ModelError.contextOverflow(sequence: s, needed: newLength[s], limit: c.maxPositionEmbeddings)
            }
            try cache.reserve(sequence, length: newLength[s])
        }
        var blockTable: [Int32] = [], tableStart: [Int] = []
        for sequence in batch.sequences {
            tableStart.append(blockTable.count)
            blockTable.append(contentsOf: sequence.blocks)
        }
        let layout = AttentionLayout(
            heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads, headDim: c.headDim, blockSize: cache.blockSize,
            blockTable: blockTable, tableOffset: batch.sequenceIndex.map { Int64(tableStart[$0]) },
            context: batch.positions.map { Int64($0 + 1) }, scale: 1 / Float(c.headDim).squareRoot())
        return (layout, { for (s, sequence) in batch.sequences.enumerated() { sequence.length = newLength[s] } })
    }

    /// The selected rows of the residual stream h: [T, H], normed: [R, H].
    private func normedRows(_ h: FloatBuffer, rows: [Int], norm: [Float]) -> FloatBuffer {
        let H = config.hiddenSize, R = rows.count
        let selected = FloatBuffer(R * H), normed = FloatBuffer(R * H)
        for (i, r) in rows.enumerated() { selected.row(i, width: H).update(from: h.row(r, width: H), count: H) }
        rmsNorm(selected.pointer, rows: R, width: H, weight: norm, eps: Float(config.rmsNormEps), into: normed.pointer)
        return normed
    }

    /// Norm and lm_head on the selected rows of the residual stream h: [T, H]; returns the
    /// logits and the normed rows.
    private func head(_ h: FloatBuffer, rows: [Int], norm: [Float]) -> (logits: [[Float]], hidden: [[Float]]) {
        let H = config.hiddenSize, V = config.vocabSize, R = rows.count
        guard R > 0 else { return ([], []) }
        let normed = normedRows(h, rows: rows, norm: norm), out = FloatBuffer(R * V)
        backend.matmul(lmHead, normed.pointer, tokens: R, out.pointer)  // [R, V]
        return ((0..<R).map { Array(UnsafeBufferPointer(start: out.row($0, width: V), count: V)) },
                (0..<R).map { Array(UnsafeBufferPointer(start: normed.row($0, width: H), count: H)) })
    }
}
