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

/// MTP logits for rows i = 0..n-2 (token t_{i+1} at position i with the main model's h_i), run in two
/// steps so that the second attends over the MTP layer's cache.
func mtpLogits(_ model: GLM4MoEModel, _ tokens: [Int]) throws -> [[Float]] {
    let n = tokens.count
    let cache = model.makeCache(tokens: 2 * n + 32, includeMTP: true)
    var main = ForwardBatch()
    main.append(KVSequence(), tokens: tokens, logits: .all)
    let hidden = try model.forwardReturningHidden(main, cache: cache).hidden
    let mtpSequence = KVSequence(), split = (n - 1) / 2
    var rows: [[Float]] = []
    for range in [0..<split, split..<(n - 1)] {
        var batch = ForwardBatch()
        batch.append(mtpSequence, tokens: range.map { tokens[$0 + 1] }, logits: .all)
        rows += try model.forwardMTP(batch, previousHidden: range.map { hidden[$0] }, cache: cache).logits
    }
    return rows
}
