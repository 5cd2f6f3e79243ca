import Foundation
import Kernels
import Models
import Testing

/// Logits against transformers' on every fixture checkpoint (f32 reference on the same weights;
/// bf16/f16/fp8 checkpoints are compared with transformers run in f32 on the widened weights).
@Suite("Golden logits")
struct GoldenLogitsTests {
    static let tolerance: Float = 1e-5

    @Test("fixtures exist") func fixturesExist() {
        #expect(Fixtures.cases.count >= 12, "expected the fixture checkpoints under Tests/Fixtures/models; run Tools/fixtures/make_fixtures.py")
    }

    @Test("whole-sequence logits match transformers", arguments: Fixtures.cases)
    func wholeSequence(_ name: String) throws {
        let model = try Fixtures.model(name)
        #expect(model.unusedTensorNames.isEmpty, "unused tensors in \(name): \(model.unusedTensorNames)")
        for sequence in try Fixtures.golden(name).sequences {
            let ours = try allLogits(model, sequence.tokens)
            let diff = maxAbsDifference(ours, sequence.logits)
            #expect(diff <= Self.tolerance, "\(name) tokens \(sequence.tokens): max-abs \(diff)")
        }
    }

    @Test("one token at a time with the KV cache equals the whole sequence", arguments: Fixtures.cases)
    func incremental(_ name: String) throws {
        let model = try Fixtures.model(name)
        let golden = try Fixtures.golden(name)
        let sequence = golden.sequences.max { $0.tokens.count < $1.tokens.count }!
        let cache = model.makeCache(tokens: sequence.tokens.count)
        let kv = KVSequence()
        for (position, token) in sequence.tokens.enumerated() {
            var batch = ForwardBatch()
            batch.append(kv, tokens: [token], logits: .last)
            let row = try model.forward(batch, cache: cache)[0]
            let diff = maxAbsDifference(row, sequence.logits[position])
            #expect(diff <= Self.tolerance, "\(name) position \(position): max-abs \(diff)")
        }
    }

    @Test("a batch of sequences of different lengths gives each its solo logits", arguments: Fixtures.cases)
    func batched(_ name: String) throws {
        let model = try Fixtures.model(name)
        let golden = try Fixtures.golden(name)
        let cache = model.makeCache(tokens: golden.sequences.reduce(0) { $0 + $1.tokens.count } + 16 * golden.sequences.count)
        // Prefill a prefix of each sequence together, then the rest of all of them together.
        let sequences = golden.sequences.map { _ in KVSequence() }
        var first = ForwardBatch()
        for (kv, s) in zip(sequences, golden.sequences) { first.append(kv, tokens: Array(s.tokens.prefix(s.tokens.count / 2)), logits: .all) }
        var rows = try model.forward(first, cache: cache)
        var second = ForwardBatch()
        for (kv, s) in zip(sequences, golden.sequences) { second.append(kv, tokens: Array(s.tokens.dropFirst(s.tokens.count / 2)), logits: .all) }
        rows += try model.forward(second, cache: cache)
        var expected: [[Float]] = []
        for s in golden.sequences { expected += s.logits.prefix(s.tokens.count / 2) }
        for s in golden.sequences { expected += s.logits.dropFirst(s.tokens.count / 2) }
        let diff = maxAbsDifference(rows, expected)
        #expect(diff <= Self.tolerance, "\(name): batched max-abs \(diff)")
        for kv in sequences { cache.release(kv) }
        #expect(cache.freeBlockCount == cache.blockCount, "released sequences give back all their blocks")
    }

    @Test("the scalar reference backend agrees with the fast CPU backend")
    func referenceParity() throws {
        for name in ["base_f32", "bf16", "fp8_block"] where Fixtures.cases.contains(name) {
            let tokens = try Fixtures.golden(name).sequences[0].tokens
            let fast = try allLogits(Fixtures.model(name), tokens)
            let reference = try allLogits(Fixtures.model(name, backend: ReferenceBackend()), tokens)
            let diff = maxAbsDifference(fast, reference)
            #expect(diff <= 1e-4, "\(name): reference vs fast max-abs \(diff)")
        }
    }

    @Test("the MTP layer predicts the token after next as the reference computes it")
    func mtpLayer() throws {
        let model = try Fixtures.model("mtp")
        #expect(model.hasMTPLayer)
        #expect(model.unusedTensorNames.isEmpty)
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.directory("mtp").appendingPathComponent("mtp_golden.json")))
        for sequence in golden.sequences {
            let rows = try mtpLogits(model, sequence.tokens)
            let diff = maxAbsDifference(rows, sequence.logits)
            #expect(diff <= Self.tolerance, "MTP tokens \(sequence.tokens): max-abs \(diff)")
        }
    }
}
