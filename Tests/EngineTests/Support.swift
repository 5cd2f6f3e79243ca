import Engine
import Foundation
import Kernels
import Models
import OrderedJSON
import Sampling

/// Tiny checkpoints from Tests/Fixtures/models, run on the scalar `ReferenceBackend`: its
/// per-token results do not depend on which other tokens share the batch, so batched and solo
/// runs can be compared token for token.
enum EngineFixtures {
    static let models = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/models")

    static func model(_ name: String = "base_f32") throws -> GLM4MoEModel {
        try GLM4MoEModel(directory: models.appendingPathComponent(name), backend: ReferenceBackend())
    }

    /// The embedded demo model, whose MTP layer is trained (most of its drafts are right).
    static func demoModel() throws -> GLM4MoEModel {
        let directory = models.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/DemoModel/glm-4.5-demo")
        return try GLM4MoEModel(directory: directory, backend: ReferenceBackend())
    }

    /// Token sequences of the demo model's goldens: rendered chat turns.
    static func demoSequences() throws -> [[Int]] {
        let golden = try JSONValue.parse(data: try Data(contentsOf: models.deletingLastPathComponent()
            .appendingPathComponent("demo/golden.json")))
        return (golden["sequences"]?.arrayValue ?? []).compactMap { $0["tokens"]?.arrayValue?.compactMap(\.intValue) }
    }
}

/// Everything a scheduled request reported.
final class Transcript: @unchecked Sendable {
    var tokens: [Int] = []
    var events: [GenerationEvent] = []
    var finish: FinishReason?
    var usage: Usage?
    var error: Error?
    var isDone: Bool { finish != nil || error != nil }

    func record(_ output: RequestOutput) {
        precondition(!isDone, "output after the end")
        switch output {
        case .event(let event):
            events.append(event)
            switch event {
            case .token(let id, _, _): tokens.append(id)
            case .finished(let reason, let usage):
                finish = reason
                self.usage = usage
            }
        case .failure(let error):
            self.error = error
        }
    }
}

/// The reference: a request run alone through `SerialEngine`.
func serialEvents(_ model: GLM4MoEModel, _ request: GenerationRequest) async throws -> [GenerationEvent] {
    var events: [GenerationEvent] = []
    for try await event in SerialEngine(model: model).generate(request) { events.append(event) }
    return events
}

/// Events with `usage.cachedTokens` zeroed (SerialEngine has no prefix cache), for comparing
/// outputs.
func withoutCacheUsage(_ events: [GenerationEvent]) -> [GenerationEvent] {
    events.map { event in
        guard case .finished(let reason, var usage) = event else { return event }
        usage.cachedTokens = 0
        return .finished(reason, usage: usage)
    }
}

func serialTokens(_ model: GLM4MoEModel, _ request: GenerationRequest) async throws -> [Int] {
    try await serialEvents(model, request).compactMap { if case .token(let id, _, _) = $0 { id } else { nil } }
}

/// Steps `scheduler` until it is idle, checking the invariants after every step.
@discardableResult
func drain(_ scheduler: Scheduler, maxSteps: Int = 100_000, onStep: (StepReport) throws -> Void = { _ in }) throws -> Int {
    var steps = 0
    while !scheduler.isIdle {
        let report = scheduler.step()
        try scheduler.checkInvariants()
        try onStep(report)
        steps += 1
        if steps > maxSteps { throw InvariantViolation(description: "no progress after \(maxSteps) steps") }
    }
    return steps
}

/// Deterministic pseudo-random prompts.
struct PromptMaker {
    var random: Xoshiro256
    let vocab: Int
    init(seed: UInt64, vocab: Int) {
        random = Xoshiro256(seed: seed)
        self.vocab = vocab
    }
    mutating func tokens(_ count: Int) -> [Int] { (0..<count).map { _ in Int(random.next() % UInt64(vocab)) } }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
    mutating func chance(_ p: Double) -> Bool { Double(random.next() >> 11) * 0x1p-53 < p }
}
