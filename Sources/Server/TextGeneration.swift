import Engine
import Foundation
import OpenAIAPI
import Tokenizers

/// One engine request as the routes see it: token ids in, text out, with stop strings applied.
struct GenerationSpec: Sendable {
    var request: GenerationRequest
    /// Generation ends where one of these appears in the text; the text from the match on is
    /// never returned (also when the match is split across tokens).
    var stopStrings: [String]
    var skipSpecialTokens: Bool
    /// `min_tokens`: stop strings count only in text after this many tokens (stop tokens are
    /// held back by the request's `MinTokensProcessor`).
    var minTokens = 0
}

/// A sampled token with its logprobs (when asked for).
struct TokenRecord: Sendable {
    var id: Int
    var logprob: Float?
    var top: [TokenLogprob]
}

enum FinishKind: Sendable, Equatable {
    /// A stop token (or the end of a tool-call turn).
    case stop
    case length
    /// One of the request's stop strings (the text ends before it).
    case stopString(String)
}

/// What a running generation reports: text as it becomes final, then one `finished`.
enum TextEvent: Sendable {
    /// `text` may be empty (held back, or a skipped token); `tokens` are the tokens sampled since
    /// the previous event.
    case text(String, tokens: [TokenRecord])
    case finished(FinishKind, promptTokens: Int, completionTokens: Int, cachedTokens: Int)
}

enum TextGeneration {
    /// Runs `spec` on the engine and reports text. Returns when generation ends; leaving early
    /// (cancellation, a thrown `onEvent`) drops the engine stream, which cancels the request.
    static func run(_ spec: GenerationSpec, model: ServingModel, metrics: ServerMetrics?,
                    onEvent: (TextEvent) async throws -> Void) async throws {
        let tracker = ServerMetrics.RequestTracker(metrics, promptTokens: spec.request.prompt.count)
        var completed = false
        defer { tracker.finish(aborted: !completed) }
        var detokenizer = model.tokenizer.makeStreamingDetokenizer(skipSpecialTokens: spec.skipSpecialTokens)
        var matcher = StopStringMatcher(spec.stopStrings)
        let wantsLogprobs = spec.request.topLogprobs != nil
        var generated = 0
        for try await event in model.engine.generate(spec.request) {
            switch event {
            case .token(let id, let logprob, let top):
                generated += 1
                tracker.token()
                let records = wantsLogprobs ? [TokenRecord(id: id, logprob: logprob, top: top)] : []
                if spec.request.stopTokenIds.contains(id) {
                    // The engine ends the request after a stop token; its text is never shown.
                    try await onEvent(.text("", tokens: records))
                    continue
                }
                let piece = detokenizer.append(id)
                let (text, matched) = generated > spec.minTokens ? matcher.feed(piece) : (piece, false)
                try await onEvent(.text(text, tokens: records))
                if matched, let stop = matcher.matchedStop {
                    completed = true
                    try await onEvent(.finished(.stopString(stop), promptTokens: spec.request.prompt.count, completionTokens: generated,
                                                cachedTokens: 0))
                    return
                }
            case .finished(let reason, let usage):
                var (text, matched) = matcher.feed(detokenizer.flush())
                if !matched { text += matcher.flush() }
                if !text.isEmpty { try await onEvent(.text(text, tokens: [])) }
                let kind: FinishKind = if let stop = matcher.matchedStop { .stopString(stop) }
                    else if reason == .length { .length } else { .stop }
                completed = true
                try await onEvent(.finished(kind, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
                                            cachedTokens: usage.cachedTokens))
                return
            }
        }
        // The stream ended without `finished`: the request was cancelled.
        try Task.checkCancellation()
        throw CancellationError()
    }
}

/// Holds back text that may be the start of a stop string, and cuts the text at the first stop
/// string. Works on Unicode scalars, as Python's `str.find` does.
struct StopStringMatcher {
    private let stops: [[Unicode.Scalar]]
    private var pending: [Unicode.Scalar] = []
    private(set) var matched = false
    /// The stop string found (the first given of those that start at the same place).
    private(set) var matchedStop: String?

    init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.unicodeScalars) }
    }

    /// Adds text; returns what is final and whether a stop string was found (the text then ends
    /// just before it and nothing more will be returned).
    mutating func feed(_ text: String) -> (String, Bool) {
        guard !matched else { return ("", true) }
        if stops.isEmpty { return (text, false) }
        pending.append(contentsOf: text.unicodeScalars)
        if let (cut, stop) = firstMatch() {
            matched = true
            matchedStop = Self.string(stop[...])
            defer { pending.removeAll() }
            return (Self.string(pending[..<cut]), true)
        }
        let hold = heldSuffix()
        let out = Self.string(pending[..<(pending.count - hold)])
        pending.removeFirst(pending.count - hold)
        return (out, false)
    }

    /// Releases held-back text at the end of generation.
    mutating func flush() -> String {
        defer { pending.removeAll() }
        return matched ? "" : Self.string(pending[...])
    }

    /// Where the earliest stop string starts in `pending`, and which it is.
    private func firstMatch() -> (Int, [Unicode.Scalar])? {
        var best: (Int, [Unicode.Scalar])?
        for s in stops where s.count <= pending.count {
            var i = 0
            while i + s.count <= pending.count, best == nil || i < best!.0 {
                if pending[i] == s[0] && Array(pending[i..<(i + s.count)]) == s { best = (i, s); break }
                i += 1
            }
        }
        return best
    }

    /// Longest suffix of `pending` that is a proper prefix of a stop string.
    private func heldSuffix() -> Int {
        var best = 0
        for s in stops {
            var n = min(s.count - 1, pending.count)
            while n > best {
                if Array(pending[(pending.count - n)...]) == Array(s[..<n]) { best = n; break }
                n -= 1
            }
        }
        return best
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }
}

/// Admission control: engine requests admitted at once (running plus waiting). A request over
/// the limit is refused with 503 instead of waiting without bound.
final class AdmissionControl: @unchecked Sendable {
    let capacity: Int
    private let lock = NSLock()
    private var inFlight = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var current: Int { lock.withLock { inFlight } }

    /// Reserves `count` engine requests; the permit gives them back when released or dropped.
    func acquire(_ count: Int) throws -> Permit {
        try lock.withLock {
            guard inFlight + count <= capacity else {
                throw APIError.overloaded("\(inFlight) requests in flight, at most \(capacity) admitted")
            }
            inFlight += count
        }
        return Permit(self, count)
    }

    fileprivate func release(_ count: Int) { lock.withLock { inFlight -= count } }

    final class Permit: @unchecked Sendable {
        private weak var owner: AdmissionControl?
        private var count: Int
        private let lock = NSLock()

        fileprivate init(_ owner: AdmissionControl, _ count: Int) {
            self.owner = owner
            self.count = count
        }

        func release() {
            let n = lock.withLock { () -> Int in
                defer { count = 0 }
                return count
            }
            if n > 0 { owner?.release(n) }
        }

        deinit { release() }
    }
}

/// Runs blocking work (template rendering, tokenizing long prompts) off Swift's cooperative
/// threads, which serve every connection.
enum Offload {
    private static let queue = DispatchQueue(label: "glm.server.offload", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
