/// How many prompt tokens the next step may prefill. `chunkedPrefillSize` caps it; while other
/// requests are decoding, it also keeps a step that prefills within `latencyFactor` × the time
/// of a decode-only step, so a long prompt arriving doesn't stall running streams. Step times
/// are measured as the engine runs: a CPU's prefill and decode speeds differ by machine and
/// model, so no fixed token count would fit them all.
///
/// Model: a mixed step takes d + a + b·C (d: the decode-only step, C: prefill tokens, a: the
/// cost of touching more experts' weights). Each mixed step measures p = (t − d) / C and the
/// next budget is (factor − 1)·d / p; its fixed point is exactly a + b·C = (factor − 1)·d.
/// d is measured on a decode-only step: when there is none yet for about this many decoding
/// requests (the batch grew or shrank by over a quarter), or none in the last
/// `remeasureEvery` mixed steps (the machine's load changes), the next step prefills nothing.
/// The budget at most doubles from one step to the next, so one noisy measurement cannot make
/// a step many times too long; it can shrink to `floor` as the prompt's growing context makes
/// each prefill token dearer.
public struct PrefillBudget: Sendable {
    public let cap: Int?
    public let latencyFactor: Double?
    /// The smallest budget while decoding (progress even when one chunk is already too slow).
    public let floor: Int
    /// Smoothed seconds of a decode-only step, and of one prefill token on top of it.
    public private(set) var decodeSeconds: Double?
    public private(set) var secondsPerPrefillToken: Double?
    /// Decoding requests when `decodeSeconds` was last measured.
    public private(set) var decodeTokensMeasured = 0
    public let remeasureEvery: Int
    private var mixedSinceMeasure = 0
    private var lastChunk = 0

    public init(cap: Int?, latencyFactor: Double?, floor: Int = 4, remeasureEvery: Int = 16) {
        self.remeasureEvery = max(1, remeasureEvery)
        self.cap = cap.flatMap { $0 > 0 ? $0 : nil }
        self.latencyFactor = latencyFactor.flatMap { $0 > 1 ? $0 : nil }
        self.floor = max(1, min(floor, self.cap ?? floor))
    }

    /// Whether steps need timing (the budget adapts).
    public var adapts: Bool { cap != nil && latencyFactor != nil }

    /// Prefill tokens allowed in the next step, with `decoding` requests also in it.
    public func tokens(decoding: Int) -> Int {
        guard let cap else { return .max }
        guard decoding > 0, let factor = latencyFactor else { return cap }
        guard let d = decodeSeconds, 4 * abs(decoding - decodeTokensMeasured) <= decodeTokensMeasured,
              mixedSinceMeasure < remeasureEvery else {
            return 0  // measure a decode-only step first
        }
        guard let p = secondsPerPrefillToken, p > 0 else { return floor }
        let target = (factor - 1) * d / p
        let limit = min(cap, max(floor, 2 * lastChunk))
        return target >= Double(limit) ? limit : max(floor, Int(target))
    }

    /// Records a step that took `seconds`.
    public mutating func record(seconds: Double, decodeTokens: Int, prefillTokens: Int) {
        guard adapts, decodeTokens > 0 else { return }
        if prefillTokens == 0 {
            let comparable = 4 * abs(decodeTokens - decodeTokensMeasured) <= decodeTokensMeasured
            decodeSeconds = comparable ? Self.smooth(decodeSeconds, seconds) : seconds
            decodeTokensMeasured = decodeTokens
            mixedSinceMeasure = 0
        } else if let d = decodeSeconds {
            let perToken = max(seconds - d, 0.05 * d) / Double(prefillTokens)
            secondsPerPrefillToken = Self.smooth(secondsPerPrefillToken, perToken)
            mixedSinceMeasure += 1
            lastChunk = prefillTokens
        }
    }

    private static func smooth(_ old: Double?, _ new: Double) -> Double { old.map { 0.5 * $0 + 0.5 * new } ?? new }
}
