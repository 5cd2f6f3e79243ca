import Foundation
import Models

/// How the batching engine schedules requests and sizes its KV cache. `glm serve` maps its
/// flags onto these one to one (`--max-running-requests`, `--max-waiting-requests`,
/// `--chunked-prefill-size`, `--max-total-tokens`, `--mem-fraction-static`, `--page-size`,
/// `--disable-radix-cache`).
public struct EngineOptions: Sendable, Equatable {
    /// Requests decoding or prefilling at once; further requests wait (FCFS).
    public var maxRunningRequests = 64
    /// Requests allowed to wait for a running slot; more are refused with `EngineError.overloaded`.
    public var maxWaitingRequests = 1024
    /// Most prompt tokens prefilled per step, across requests, on top of one decode token per
    /// running request; a longer prompt is prefilled over several steps so running streams keep
    /// going. nil or ≤ 0: whole prompts in one step.
    public var chunkedPrefillSize: Int? = 512
    /// While requests are decoding, a step that also prefills should take at most this many
    /// times a decode-only step: the prefill chunk shrinks below `chunkedPrefillSize` to fit,
    /// by step times measured as the engine runs (see `PrefillBudget`). nil: always
    /// `chunkedPrefillSize`.
    public var prefillLatencyFactor: Double? = 2
    /// KV cache capacity in tokens. nil: what `memFractionStatic` leaves after the weights.
    public var maxTotalTokens: Int?
    /// Fraction of the machine's memory for weights plus KV cache (used when `maxTotalTokens`
    /// is nil).
    public var memFractionStatic = 0.8
    /// Tokens per KV block (the unit of allocation and of prefix sharing).
    public var blockSize = 16
    /// Share the KV of repeated prompt prefixes between requests.
    public var enableRadixCache = true
    /// Check the block-accounting invariants after every step and fail loudly when one breaks
    /// (tests; costs a walk over all blocks per step).
    public var checkInvariants = false
    /// Tokens the checkpoint's MTP layer drafts per step for each decoding request, a chain
    /// verified in the next forward pass (`--speculative-num-steps`; 0 is off). Greedy output is
    /// what decoding gives without it, and sampled tokens keep their distribution (spec §4.3);
    /// the MTP layer gets a KV layer of its own.
    public var speculativeDraftTokens = 0
    public static let maxSpeculativeDraftTokens = 16

    public init(maxRunningRequests: Int = 64, maxWaitingRequests: Int = 1024, chunkedPrefillSize: Int? = 512,
                prefillLatencyFactor: Double? = 2, maxTotalTokens: Int? = nil, memFractionStatic: Double = 0.8,
                blockSize: Int = 16, enableRadixCache: Bool = true, checkInvariants: Bool = false,
                speculativeDraftTokens: Int = 0) {
        self.maxRunningRequests = maxRunningRequests
        self.maxWaitingRequests = maxWaitingRequests
        self.chunkedPrefillSize = chunkedPrefillSize
        self.prefillLatencyFactor = prefillLatencyFactor
        self.maxTotalTokens = maxTotalTokens
        self.memFractionStatic = memFractionStatic
        self.blockSize = blockSize
        self.enableRadixCache = enableRadixCache
        self.checkInvariants = checkInvariants
        self.speculativeDraftTokens = speculativeDraftTokens
    }

    /// Checks the options against the model; throws `EngineConfigurationError`.
    public func validate() throws {
        guard maxRunningRequests > 0 else { throw EngineConfigurationError.invalid("max running requests must be positive") }
        guard maxWaitingRequests >= 0 else { throw EngineConfigurationError.invalid("max waiting requests must not be negative") }
        guard blockSize > 0 else { throw EngineConfigurationError.invalid("the KV block (page) size must be positive") }
        if let maxTotalTokens, maxTotalTokens < blockSize {
            throw EngineConfigurationError.invalid("max total tokens (\(maxTotalTokens)) must hold at least one block of \(blockSize)")
        }
        if let factor = prefillLatencyFactor, factor <= 1 {
            throw EngineConfigurationError.invalid("the prefill latency factor must be above 1, got \(factor)")
        }
        guard (0...Self.maxSpeculativeDraftTokens).contains(speculativeDraftTokens) else {
            throw EngineConfigurationError.invalid(
                "the MTP layer drafts 0 to \(Self.maxSpeculativeDraftTokens) tokens per step, not \(speculativeDraftTokens)")
        }
        guard memFractionStatic > 0 && memFractionStatic <= 1 else {
            throw EngineConfigurationError.invalid("mem-fraction-static must be in (0, 1], got \(memFractionStatic)")
        }
    }

    /// The KV cache size in blocks for `model`: `maxTotalTokens`, or the memory budget minus the
    /// weights, divided by the KV bytes per token.
    public func kvBlockCount(for model: GLM4MoEModel, memoryBytes: Int = EngineOptions.availableMemoryBytes) throws -> Int {
        try validate()
        if let maxTotalTokens { return maxTotalTokens / blockSize }
        let c = model.config
        let layers = c.numHiddenLayers + (speculativeDraftTokens > 0 ? 1 : 0)
        let bytesPerToken = 2 * layers * c.numKeyValueHeads * c.headDim * MemoryLayout<Float>.size
        let weights = model.checkpoint.totalBytes
        let budget = Int(Double(memoryBytes) * memFractionStatic) - weights
        let blocks = budget / (bytesPerToken * blockSize)
        guard blocks > 0 else {
            throw EngineConfigurationError.insufficientMemory(
                "mem-fraction-static \(memFractionStatic) of \(memoryBytes >> 20) MiB leaves no room for the KV cache after "
                    + "\(weights >> 20) MiB of weights; raise it or pass max total tokens")
        }
        return blocks
    }

    /// Physical memory, or the cgroup limit when one is lower.
    public static var availableMemoryBytes: Int {
        var bytes = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 {
                bytes = min(bytes, limit)
            }
        }
        return bytes
    }
}

/// Engine options that cannot work (reported before the engine starts).
public enum EngineConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case insufficientMemory(String)

    public var description: String {
        switch self {
        case .invalid(let reason), .insufficientMemory(let reason): reason
        }
    }
}

/// A snapshot of the engine for `/metrics` and tests.
public struct EngineStats: Sendable, Equatable {
    /// Requests in the running batch (decoding or prefilling).
    public var running = 0
    /// Requests waiting for admission (including preempted ones).
    public var waiting = 0
    public var blockSize = 0
    public var totalBlocks = 0
    public var freeBlocks = 0
    /// Blocks only the prefix cache holds (evictable).
    public var cachedBlocks = 0
    /// Blocks held by running requests (including cached blocks they share).
    public var usedBlocks: Int { totalBlocks - freeBlocks - cachedBlocks }
    /// Prompt tokens of admitted requests, and those whose KV came from the prefix cache.
    public var promptTokens = 0
    public var cachedPromptTokens = 0
    public var generatedTokens = 0
    public var finishedRequests = 0
    public var preemptions = 0
    public var steps = 0
    /// Speculative decoding: tokens the MTP layer drafted, and those the model confirmed.
    public var draftTokens = 0
    public var acceptedDraftTokens = 0
    /// Verifying rounds: one per request and step that fed it drafts.
    public var draftRounds = 0

    public init() {}

    /// Fraction of the KV cache held by running requests.
    public var kvUsage: Double { totalBlocks > 0 ? Double(usedBlocks) / Double(totalBlocks) : 0 }
    /// Fraction of drafted tokens the model confirmed.
    public var draftAcceptanceRate: Double { draftTokens > 0 ? Double(acceptedDraftTokens) / Double(draftTokens) : 0 }
    /// Tokens a verifying round emits on average: the drafts it keeps and one of the model's own.
    public var acceptLength: Double { draftRounds > 0 ? 1 + Double(acceptedDraftTokens) / Double(draftRounds) : 0 }
    /// Fraction of admitted prompt tokens served from the prefix cache.
    public var prefixHitRate: Double { promptTokens > 0 ? Double(cachedPromptTokens) / Double(promptTokens) : 0 }
}
