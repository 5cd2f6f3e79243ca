import Foundation
import Kernels
import Models
import Testing
import Weights

/// Tiny glm4moe GGUFs made by llama.cpp's converter and quantiser (Tools/gguf/make_fixtures.py),
/// against transformers run in f32 on the gguf-py-dequantised weights of the same file
/// (`oracle.json`), and against llama.cpp's own logits on that file (`llama_cpp.json`).
@Suite("GGUF models against the dequantised-weights oracle")
struct GGUFModelTests {
    static let root = Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/gguf/models")
    static let cases = ["f32", "q8_0", "q4_0", "q4_k_m", "q6_k", "iq4_xs", "bf16"]

    static func file(_ name: String) -> URL { root.appendingPathComponent("\(name)/model.gguf") }

    static func logits(_ name: String, _ json: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: root.appendingPathComponent("\(name)/\(json)")))
    }

    /// Mean KL(p‖q) over rows of logits, and the share of rows whose argmax agrees.
    static func divergence(_ p: [[Float]], _ q: [[Float]]) -> (kl: Double, top1: Double) {
        func logSoftmax(_ row: [Float]) -> [Double] {
            let m = Double(row.max()!), s = row.reduce(0.0) { $0 + exp(Double($1) - m) }
            return row.map { Double($0) - m - log(s) }
        }
        var kl = 0.0, same = 0
        for (a, b) in zip(p, q) {
            let lp = logSoftmax(a), lq = logSoftmax(b)
            kl += zip(lp, lq).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
            if a.indices.max(by: { a[$0] < a[$1] }) == b.indices.max(by: { b[$0] < b[$1] }) { same += 1 }
        }
        return (kl / Double(p.count), Double(same) / Double(p.count))
    }

    @Test("the reference backend reproduces the oracle: names, shapes, dequantisation, config", arguments: cases)
    func referenceMatchesOracle(_ name: String) throws {
        let model = try GLM4MoEModel(directory: Self.file(name), backend: ReferenceBackend(), weightCheck: .full)
        #expect(model.unusedTensorNames.isEmpty, "\(model.unusedTensorNames)")
        #expect(model.hasMTPLayer)
        for sequence in try Self.logits(name, "oracle.json").sequences {
            let ours = try allLogits(model, sequence.tokens)
            let scale = sequence.logits.joined().reduce(Float(1)) { max($0, abs($1)) }
            #expect(maxAbsDifference(ours, sequence.logits) <= 2e-5 * scale, "\(name) \(sequence.tokens)")
        }
    }

    @Test("the fast kernels are no further from the oracle than llama.cpp is", arguments: cases)
    func fastKernelsAgainstLlamaCpp(_ name: String) throws {
        try Self.againstLlamaCpp(name, backend: CPUBackend(threads: 2))
    }

    /// `--dtype bfloat16` on the BF16 file: bf16 activations on vdpbf16ps, as llama.cpp's BF16
    /// path computes (on a CPU without AVX512-BF16 both are the f32 path, and the bar still holds).
    @Test("bf16 activations on the BF16 file are no further from the oracle than llama.cpp's")
    func bf16ActivationsAgainstLlamaCpp() throws {
        try Self.againstLlamaCpp("bf16", backend: CPUBackend(threads: 2, precision: .bfloat16))
    }

    static func againstLlamaCpp(_ name: String, backend: CPUBackend) throws {
        let model = try GLM4MoEModel(directory: file(name), backend: backend)
        let oracle = try logits(name, "oracle.json"), llama = try logits(name, "llama_cpp.json")
        var ours: [[Float]] = [], theirs: [[Float]] = [], reference: [[Float]] = []
        for (o, l) in zip(oracle.sequences, llama.sequences) {
            #expect(o.tokens == l.tokens)
            ours += try allLogits(model, o.tokens)
            theirs += l.logits
            reference += o.logits
        }
        let (ourKL, ourTop1) = divergence(reference, ours), (theirKL, theirTop1) = divergence(reference, theirs)
        // KL at most 1.5× llama.cpp's (issue 20's bar).
        #expect(ourKL <= 1.5 * theirKL + 1e-9, "\(name): KL \(ourKL) vs llama.cpp \(theirKL)")
        // Top-1: int8 activations (ours and llama.cpp's alike) flip only near-ties of the oracle.
        // On these 22 positions ours is within one position of llama.cpp's agreement (q4_0 and
        // iq4_xs: 20 against 21 of 22), every flip at an oracle gap under 0.15.
        #expect(ourTop1 >= theirTop1 - 1.0 / Double(reference.count) - 1e-9, "\(name): top-1 \(ourTop1) vs llama.cpp \(theirTop1)")
        for (row, (o, r)) in zip(ours, reference).enumerated() {
            let best = r.indices.max { r[$0] < r[$1] }!, ourBest = o.indices.max { o[$0] < o[$1] }!
            if best != ourBest {
                #expect(r[best] - r[ourBest] < 0.15, "\(name) row \(row): top-1 flipped at an oracle gap of \(r[best] - r[ourBest])")
            }
        }
    }

    @Test("the MTP layer from blk.N.nextn.* matches the oracle's MTP head")
    func mtpHead() throws {
        let model = try GLM4MoEModel(directory: Self.file("f32"), backend: ReferenceBackend())
        for sequence in try Self.logits("f32", "mtp_oracle.json").sequences {
            let rows = try mtpLogits(model, sequence.tokens)
            let scale = sequence.logits.joined().reduce(Float(1)) { max($0, abs($1)) }
            #expect(maxAbsDifference(rows, sequence.logits) <= 2e-5 * scale, "\(sequence.tokens)")
        }
    }

    @Test("the glm4moe metadata gives the checkpoint's config.json")
    func configuration() throws {
        let gguf = try GGUFModelFiles(url: Self.file("q4_k_m"))
        let fromGGUF = try GLM4MoEConfiguration(gguf: gguf)
        var fromHF = try GLM4MoEConfiguration(json: Data(contentsOf: Self.root.appendingPathComponent("hf_config.json")))
        // The GGUF's stop tokens are llama.cpp's end-of-generation set; max_position_embeddings the converter's.
        fromHF.eosTokenIds = fromGGUF.eosTokenIds
        fromHF.padTokenId = fromGGUF.padTokenId
        fromHF.bosTokenId = fromGGUF.bosTokenId
        #expect(fromGGUF == fromHF)
        #expect(fromGGUF.numHiddenLayers == 2 && fromGGUF.numNextnPredictLayers == 1)
    }

    @Test("a GGUF whose metadata is wrong or missing names the key and the file")
    func badMetadata() throws {
        let gguf = try GGUFModelFiles(url: Self.file("q4_0"))
        // The real file is fine; what it lacks in other architectures is refused by name.
        #expect(throws: Never.self) { try GLM4MoEConfiguration(gguf: gguf) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("glm-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A copy whose architecture string says llama: same length, so offsets stay valid.
        var bytes = try Data(contentsOf: Self.file("q4_0"))
        let needle = Data("glm4moe".utf8), range = try #require(bytes.range(of: needle))
        bytes.replaceSubrange(range, with: Data("llama42".utf8))
        let renamed = folder.appendingPathComponent("renamed.gguf")
        try bytes.write(to: renamed)
        #expect { try GLM4MoEModel(directory: renamed, backend: ReferenceBackend()) } throws: { error in
            "\(error)".contains(renamed.path) && "\(error)".contains("llama42")
        }
        // Cut inside the tensor data: the tensor and the file are named, nothing crashes.
        let cut = folder.appendingPathComponent("cut.gguf")
        try Data(contentsOf: Self.file("q4_0")).prefix(1_000_000).write(to: cut)
        #expect { try GLM4MoEModel(directory: cut, backend: ReferenceBackend()) } throws: { error in
            "\(error)".contains(cut.path) && "\(error)".contains("truncated")
        }
    }
}

extension GGUFModelTests {
    @Test("a stacked expert tensor with no rows and a billion experts is refused, not split")
    func hugeExpertCount() throws {
        // GGUF v3, one tensor blk.0.ffn_gate_exps.weight F32 ne = [32, 0, 2^30] (no bytes), no metadata.
        var bytes = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        let name = "blk.0.ffn_gate_exps.weight"
        u32(3); u64(1); u64(0)
        u64(UInt64(name.utf8.count)); bytes += Array(name.utf8)
        u32(3); u64(32); u64(0); u64(1 << 30); u32(0); u64(0)
        while bytes.count % 32 != 0 { bytes.append(0) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("glm-experts-\(UUID().uuidString).gguf")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let gguf = try GGUFModelFiles(url: file)
        #expect { try Checkpoint.glm4moe(gguf: gguf) } throws: { error in
            "\(error)".contains(name) && "\(error)".contains("1073741824 stacked experts")
        }
    }
}
