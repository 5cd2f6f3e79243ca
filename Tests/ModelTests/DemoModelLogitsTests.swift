import Foundation
import Kernels
import Models
import Testing

/// The embedded demo model (Sources/DemoModel/glm-4.5-demo, trained by Tools/demo-model/train.py)
/// against transformers' logits on the same bf16 files (Tests/Fixtures/demo, written by the same script).
@Suite("Demo model logits")
struct DemoModelLogitsTests {
    static let directory = Fixtures.repoRoot.appendingPathComponent("Sources/DemoModel/glm-4.5-demo")
    static let goldens = Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/demo")

    /// The fixtures' 1e-5 was set on random models with logits up to 15; this trained model's reach 25
    /// and its activations are larger, so the bound scales with the largest logit: 4e-6 of it (about
    /// 30 f32 ulps there; measured: 1.9e-5 main, 5.7e-5 MTP, whose chain runs one layer longer).
    /// A different expert choice or a wrong formula moves logits by 0.1 to 10, far above this.
    static func tolerance(_ logits: [[Float]]) -> Float {
        max(GoldenLogitsTests.tolerance, 4e-6 * logits.joined().reduce(0) { max($0, abs($1)) })
    }

    static func golden(_ file: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: goldens.appendingPathComponent(file)))
    }

    @Test("logits match transformers on every position")
    func logits() throws {
        let model = try GLM4MoEModel(directory: Self.directory, backend: CPUBackend(threads: 2))
        #expect(model.hasMTPLayer)
        #expect(model.unusedTensorNames.isEmpty, "unused tensors: \(model.unusedTensorNames)")
        for sequence in try Self.golden("golden.json").sequences {
            let diff = maxAbsDifference(try allLogits(model, sequence.tokens), sequence.logits)
            #expect(diff <= Self.tolerance(sequence.logits), "tokens \(sequence.tokens): max-abs \(diff)")
        }
    }

    @Test("the MTP layer's logits match the reference")
    func mtp() throws {
        let model = try GLM4MoEModel(directory: Self.directory, backend: CPUBackend(threads: 2))
        for sequence in try Self.golden("mtp_golden.json").sequences {
            let diff = maxAbsDifference(try mtpLogits(model, sequence.tokens), sequence.logits)
            #expect(diff <= Self.tolerance(sequence.logits), "MTP tokens \(sequence.tokens): max-abs \(diff)")
        }
    }
}
