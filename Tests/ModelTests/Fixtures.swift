import Foundation
import Kernels
import Models

/// Golden logits recorded by Tools/fixtures/make_fixtures.py with HF transformers.
struct Golden: Decodable {
    struct Sequence: Decodable {
        let tokens: [Int]
        let logits: [[Float]]
    }
    let sequences: [Sequence]
    let reference_dtype: String?
}

enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let models = repoRoot.appendingPathComponent("Tests/Fixtures/models")

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: models.path)) ?? [])
            .filter { FileManager.default.fileExists(atPath: models.appendingPathComponent("\($0)/golden.json").path) }
            .sorted()
    }

    static func directory(_ name: String) -> URL { models.appendingPathComponent(name) }

    static func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: directory(name).appendingPathComponent("golden.json")))
    }

    static func model(_ name: String, backend: ComputeBackend = CPUBackend(threads: 2)) throws -> GLM4MoEModel {
        try GLM4MoEModel(directory: directory(name), backend: backend)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func maxAbsDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
    precondition(a.count == b.count, "rows \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, maxAbsDifference($1.0, $1.1)) }
}

/// Whole-sequence logits for every position, in one forward pass.
func allLogits(_ model: GLM4MoEModel, _ tokens: [Int]) throws -> [[Float]] {
    let cache = model.makeCache(tokens: tokens.count)
    var batch = ForwardBatch()
    batch.append(KVSequence(), tokens: tokens, logits: .all)
    return try model.forward(batch, cache: cache)
}
