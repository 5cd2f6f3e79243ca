// Continuous batching over a paged KV cache, after the early sglang `managers/scheduler.py`
// loop: admit waiting requests (prefix match + allocate) → build one forward batch from the
// decode tokens of every running request plus prefill chunks → sample per request → emit →
// free what finished. With speculative decoding a request feeds its MTP drafts after its
// decode token, and MTP passes over the positions each step kept draft the next ones. The
// scheduler is synchronous and single-threaded; `BatchingEngine` runs it on a dedicated
// thread, and tests drive it step by step.
import Foundation
import Models
import Sampling

/// What a scheduled request reports: its events (the last is `.finished`), or one failure.
public enum RequestOutput: Sendable {
    case event(GenerationEvent)
    case failure(Error)
}

/// What one scheduler step did.
public struct StepReport: Sendable, Equatable {
    /// Requests that contributed one token (decode).
    public var decodeTokens = 0
    /// Prompt tokens prefilled this step (chunks of possibly several requests).
    public var prefillTokens = 0
    /// Requests in the forward pass; 0 when the step ran none.
    public var sequences = 0
    public var admitted: [Int] = []
    public var preempted: [Int] = []
    public var finished: [Int] = []
    public init() {}
}

/// A request the invariant check found broken bookkeeping for.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// One request as the scheduler tracks it. KV is computed for `tokens[0..<kv.length]`; the rest
/// of `tokens` is still to be fed (the prompt remainder, or the last sampled token).
final class ScheduledRequest {
    enum State { case waiting, running, finished }

    let id: Int
    let request: GenerationRequest
    let sink: (RequestOutput) -> Void
    /// The prompt, then every generated token; after a preemption all of it is prefilled again.
    var tokens: [Int]
    var generated: [Int] = []
    var sampler: Sampler
    var processors: [any LogitProcessor]
    let kv = KVSequence()
    /// The deepest prefix-cache node this request holds locked.
    var node: RadixCache.Node?
    var state = State.waiting
    /// Prompt tokens served from the prefix cache at first admission.
    var cachedTokens = 0
    var admissions = 0
    /// Increases with each admission; the highest is preempted first.
    var admissionOrder = 0
    /// The MTP layer's guesses at the tokens after the pending one (speculative decoding).
    var drafts: [Int] = []

    init(id: Int, request: GenerationRequest, sink: @escaping (RequestOutput) -> Void) {
        self.id = id
        self.request = request
        self.sink = sink
        tokens = request.prompt
        sampler = Sampler(request.sampling)
        processors = request.processors
    }

    var pending: Int { tokens.count - kv.length }
}

/// The batching scheduler. Not thread-safe: call it from one thread.
public final class Scheduler {
    public let model: GLM4MoEModel
    public let options: EngineOptions
    public let cache: PagedKVCache
    /// nil when the prefix cache is disabled.
    public let radix: RadixCache?
    /// Positions one request may use: the model's context, or the whole KV cache if smaller.
    public let contextLength: Int

    var waiting: [ScheduledRequest] = []
    /// In admission order.
    var running: [ScheduledRequest] = []
    var live: [Int: ScheduledRequest] = [:]
    /// KV sequences of requests finished since the last invariant check.
    var recentlyFinished: [KVSequence] = []
    private var nextID = 0
    private var admissions = 0
    private var counters = EngineStats()
    /// The per-step prefill token budget (fixed, or adapted to measured step times).
    public private(set) var prefillBudget: PrefillBudget

    public init(model: GLM4MoEModel, options: EngineOptions) throws {
        self.model = model
        self.options = options
        let blocks = try options.kvBlockCount(for: model)
        let c = model.config
        if options.speculativeDraftTokens > 0 && !model.hasMTPLayer {
            throw EngineConfigurationError.invalid("speculative decoding drafts with the checkpoint's MTP layer "
                                                   + "(model.layers.\(c.numHiddenLayers).*), which this checkpoint lacks")
        }
        cache = PagedKVCache(layers: c.numHiddenLayers + (options.speculativeDraftTokens > 0 ? 1 : 0),
                             kvHeads: c.numKeyValueHeads, headDim: c.headDim, blockSize: options.blockSize, blockCount: blocks)
        radix = options.enableRadixCache ? RadixCache(blockSize: options.blockSize) : nil
        contextLength = min(c.maxPositionEmbeddings, blocks * options.blockSize)
        prefillBudget = PrefillBudget(cap: options.chunkedPrefillSize, latencyFactor: options.prefillLatencyFactor)
    }

    public var isIdle: Bool { waiting.isEmpty && running.isEmpty }
    public var runningCount: Int { running.count }
    public var waitingCount: Int { waiting.count }

    public var stats: EngineStats {
        var s = counters
        s.running = running.count
        s.waiting = waiting.count
        s.blockSize = cache.blockSize
        s.totalBlocks = cache.blockCount
        s.freeBlocks = cache.freeBlockCount
        s.cachedBlocks = radix?.evictableCount ?? 0
        return s
    }

    // MARK: - Requests in and out

    /// Queues a request; returns its id (for `cancel`). Requests that can never run fail at
    /// once through `sink`.
    @discardableResult
    public func submit(_ request: GenerationRequest, sink: @escaping (RequestOutput) -> Void) -> Int {
        nextID += 1
        let id = nextID
        let prompt = request.prompt
        guard !prompt.isEmpty else {
            sink(.failure(EngineError.emptyPrompt))
            return id
        }
        guard prompt.count + request.maxTokens <= contextLength else {
            sink(.failure(EngineError.contextLengthExceeded(promptTokens: prompt.count, maxTokens: request.maxTokens,
                                                            contextLength: contextLength)))
            return id
        }
        let vocab = model.config.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocab }) {
            sink(.failure(ModelError.tokenOutOfRange(token: bad, vocabularySize: vocab)))
            return id
        }
        // Waiting requests beyond the free running slots count against the queue bound.
        let queued = waiting.count - max(0, options.maxRunningRequests - running.count)
        guard queued < options.maxWaitingRequests else {
            sink(.failure(EngineError.overloaded(waiting: waiting.count)))
            return id
        }
        guard request.maxTokens > 0 else {
            sink(.event(.finished(.length, usage: Usage(promptTokens: prompt.count, completionTokens: 0))))
            return id
        }
        let scheduled = ScheduledRequest(id: id, request: request, sink: sink)
        waiting.append(scheduled)
        live[id] = scheduled
        return id
    }

    /// Stops a request and frees its blocks now; it reports `CancellationError`.
    public func cancel(_ id: Int) {
        guard let r = live[id] else { return }
        switch r.state {
        case .running:
            releaseKV(r)
            running.removeAll { $0 === r }
        case .waiting:
            waiting.removeAll { $0 === r }
        case .finished:
            return
        }
        retire(r)
        r.sink(.failure(CancellationError()))
    }

    // MARK: - The step

    /// Admits what fits, runs one forward pass and delivers its tokens.
    @discardableResult
    public func step() -> StepReport {
        var report = StepReport()
        admit(&report)
        let entries = schedule(&report)
        guard !entries.isEmpty else { return report }

        var batch = ForwardBatch()
        var sampled: [(request: ScheduledRequest, drafts: [Int])] = []
        var fed: [(request: ScheduledRequest, start: Int, firstRow: Int)] = []
        for (r, n) in entries {
            let start = r.kv.length, firstRow = batch.tokens.count
            fed.append((r, start, firstRow))
            if r.pending == 1 {
                batch.append(r.kv, tokens: [r.tokens[start]] + r.drafts, logits: .all)
                sampled.append((r, r.drafts))
                r.drafts = []
                report.decodeTokens += 1
            } else {
                let last = start + n == r.tokens.count
                batch.append(r.kv, tokens: Array(r.tokens[start..<start + n]), logits: last ? .last : .none)
                if last { sampled.append((r, [])) }
                report.prefillTokens += n
            }
        }
        report.sequences = entries.count
        counters.steps += 1

        let logits: [[Float]], hidden: [[Float]]
        let started = ContinuousClock.now
        do {
            // The MTP pass needs the final hidden state of every position fed.
            (logits, hidden) = try model.forwardReturningHidden(batch, cache: cache,
                                                                hiddenRows: speculates ? Array(batch.tokens.indices) : nil)
            if prefillBudget.adapts {
                let d = (ContinuousClock.now - started).components
                prefillBudget.record(seconds: Double(d.seconds) + Double(d.attoseconds) * 1e-18,
                                     decodeTokens: report.decodeTokens, prefillTokens: report.prefillTokens)
            }
        } catch {
            // forward checks everything before it writes, so no request advanced.
            for (r, _) in entries { fail(r, error, &report) }
            return report
        }
        var row = 0
        for (r, drafts) in sampled {
            defer { row += 1 + drafts.count }
            guard !drafts.isEmpty else {
                sampleAndEmit(r, logits: logits[row], &report)
                continue
            }
            // Verification (spec §4.3): each draft's position counts once the sampler keeps it; the
            // first one it replaces ends the round, and when all are kept the last row gives one more.
            r.kv.length -= drafts.count
            counters.draftTokens += drafts.count
            counters.draftRounds += 1
            var kept = 0
            while kept < drafts.count, r.state == .running,
                  sampleAndEmit(r, logits: logits[row + kept], verifying: drafts[kept], &report) == drafts[kept] {
                kept += 1
            }
            guard r.state == .running else { continue }
            r.kv.length += kept
            counters.acceptedDraftTokens += kept
            if kept == drafts.count { sampleAndEmit(r, logits: logits[row + kept], &report) }
        }
        if speculates { draftNextTokens(fed, hidden: hidden) }
        for (r, _) in entries where r.state == .running { cacheComputedBlocks(r) }
        return report
    }

    private var speculates: Bool { options.speculativeDraftTokens > 0 }

    /// The MTP layer over every position this step computed and kept (position i with the
    /// main model's h_i and token i+1: the next prompt token or the one just sampled), which
    /// fills its KV and, at each decoding request's last position, drafts the next token. Chained
    /// steps then run it on its own draft and normed hidden state, one position further each
    /// (spec §4.2, as SGLang's EAGLE worker does), while the request has blocks for them.
    private func draftNextTokens(_ fed: [(request: ScheduledRequest, start: Int, firstRow: Int)], hidden: [[Float]]) {
        var batch = ForwardBatch(), previousHidden: [[Float]] = [], drafting: [ScheduledRequest] = []
        for (r, start, firstRow) in fed where r.state == .running && r.kv.length > start {
            let positions = start..<r.kv.length
            let drafts = r.pending == 1 && draftLimit(r) > 0
            batch.append(r.kv, tokens: positions.map { r.tokens[$0 + 1] }, startingAt: start, logits: drafts ? .last : .none)
            previousHidden += positions.map { hidden[firstRow + $0 - start] }
            if drafts { drafting.append(r) }
        }
        guard !batch.tokens.isEmpty, let out = try? model.forwardMTP(batch, previousHidden: previousHidden, cache: cache)
        else { return }  // no drafts: the next step decodes one token
        var chain: [(request: ScheduledRequest, hidden: [Float])] = Array(zip(drafting, out.hidden))
        for (r, row) in zip(drafting, out.logits) {
            r.drafts = [Sampler.argmax(row)]
            // Room for the chain and its verification, from free blocks only: drafts never evict or preempt.
            try? cache.reserve(r.kv, length: r.kv.length + 1 + draftLimit(r))
        }
        while true {
            // The next draft's input sits at position length + drafts - 1; its KV is the MTP layer's alone.
            chain.removeAll { r, _ in
                r.drafts.count >= draftLimit(r) || r.kv.blocks.count < cache.blocksNeeded(forLength: r.kv.length + r.drafts.count)
            }
            guard !chain.isEmpty else { return }
            batch = ForwardBatch()
            for (r, _) in chain {
                batch.append(r.kv, tokens: [r.drafts.last!], startingAt: r.kv.length + r.drafts.count - 1, logits: .last)
            }
            let lengths = chain.map(\.request.kv.length)
            let step = try? model.forwardMTP(batch, previousHidden: chain.map(\.hidden), cache: cache)
            for ((r, _), length) in zip(chain, lengths) { r.kv.length = length }  // drafts are not the model's positions
            guard let step else { return }
            for i in chain.indices {
                chain[i].request.drafts.append(Sampler.argmax(step.logits[i]))
                chain[i].hidden = step.hidden[i]
            }
        }
    }

    /// Drafts worth making for `r`'s next step: at most the configured number, and fewer than
    /// the tokens it may still generate (a step emits one more than it keeps drafts).
    private func draftLimit(_ r: ScheduledRequest) -> Int {
        min(options.speculativeDraftTokens, r.request.maxTokens - r.generated.count - 1)
    }

    /// FCFS: admits waiting requests in order while a running slot and enough blocks are free
    /// (after evicting unused cached prefixes), keeping one spare block per running request
    /// for decode growth.
    private func admit(_ report: inout StepReport) {
        while let r = waiting.first, running.count < options.maxRunningRequests {
            // At least the last token is always computed, so it yields logits.
            var node = radix?.root, shared: [Int32] = []
            if let radix { (node, shared) = radix.match(r.tokens[0..<r.tokens.count - 1]) }
            let needed = cache.blocksNeeded(forLength: r.tokens.count) - shared.count
            let evictable = radix.map { $0.evictableCount - $0.unlockedNodes(onPathTo: node!) } ?? 0
            guard needed + running.count <= cache.freeBlockCount + evictable else { return }

            waiting.removeFirst()
            if let radix, let node {
                radix.lock(node)
                r.node = node
            }
            for block in shared { cache.retain(block) }
            r.kv.blocks = shared
            r.kv.length = shared.count * cache.blockSize
            guard let fresh = allocate(needed) else {
                preconditionFailure("admission counted \(needed) blocks that allocation could not find")
            }
            r.kv.blocks += fresh
            if r.admissions == 0 {
                r.cachedTokens = r.kv.length
                counters.promptTokens += r.request.prompt.count
                counters.cachedPromptTokens += r.kv.length
            }
            r.admissions += 1
            admissions += 1
            r.admissionOrder = admissions
            r.state = .running
            running.append(r)
            report.admitted.append(r.id)
        }
    }

    /// The batch: one token for every running request that is decoding (oldest first; a new
    /// block for one may preempt the newest), then prefill chunks within the prefill budget,
    /// oldest request first.
    private func schedule(_ report: inout StepReport) -> [(ScheduledRequest, Int)] {
        var entries: [(ScheduledRequest, Int)] = []
        for r in running where r.pending == 1 {
            guard r.state == .running else { continue }  // preempted for an older request
            let n = 1 + r.drafts.count
            if ensureBlocks(r, length: r.kv.length + n, &report) { entries.append((r, n)) }
        }
        var budget = prefillBudget.tokens(decoding: entries.count)
        for r in running where r.pending > 1 && budget > 0 {
            let n = min(r.pending, budget)
            budget -= n
            precondition(r.kv.blocks.count >= cache.blocksNeeded(forLength: r.kv.length + n),
                         "a prefilling request holds blocks for its whole prompt")
            entries.append((r, n))
        }
        return entries
    }

    /// Makes room for `length` positions in `r`'s block table: free blocks, then evicted cached
    /// prefixes, then preempting the most recently admitted request (possibly `r` itself).
    private func ensureBlocks(_ r: ScheduledRequest, length: Int, _ report: inout StepReport) -> Bool {
        let needed = cache.blocksNeeded(forLength: length) - r.kv.blocks.count
        guard needed > 0 else { return true }
        while true {
            if let blocks = allocate(needed) {
                r.kv.blocks += blocks
                return true
            }
            guard let victim = running.last else { return false }
            preempt(victim, &report)
            if victim === r { return false }
        }
    }

    /// `count` fresh blocks, evicting least recently used cached prefixes if needed.
    private func allocate(_ count: Int) -> [Int32]? {
        if cache.freeBlockCount < count, let radix {
            for block in radix.evict(count - cache.freeBlockCount) { cache.release(block: block) }
        }
        guard cache.freeBlockCount >= count else { return nil }
        return try? cache.allocate(count)
    }

    // MARK: - After the forward pass

    /// Samples, emits and records one token; returns it. With `draft` the sampler keeps or
    /// replaces that draft so that the token is distributed as a plain sample (spec §4.3).
    /// A request whose logits cannot be sampled (`NextTokenLogits`) fails alone; nil then.
    @discardableResult
    private func sampleAndEmit(_ r: ScheduledRequest, logits row: [Float], verifying draft: Int? = nil,
                               _ report: inout StepReport) -> Int? {
        var logits = row
        do {
            try NextTokenLogits.process(&logits, processors: &r.processors, generated: r.generated)
        } catch {
            fail(r, error, &report)
            return nil
        }
        let token = draft.map { r.sampler.verify(draft: $0, logits: logits) } ?? r.sampler.sample(logits)
        for i in r.processors.indices { r.processors[i].didSample(token) }
        r.generated.append(token)
        counters.generatedTokens += 1
        let (logprob, top) = r.request.topLogprobs.map { Logprobs.of(token, in: logits, top: $0) } ?? (nil, [])
        r.sink(.event(.token(id: token, logprob: logprob, topLogprobs: top)))
        if r.request.stopTokenIds.contains(token) {
            finish(r, .stop(token: token), &report)
        } else if r.generated.count >= r.request.maxTokens {
            finish(r, .length, &report)
        } else {
            r.tokens.append(token)
        }
        return token
    }

    private func finish(_ r: ScheduledRequest, _ reason: FinishReason, _ report: inout StepReport) {
        releaseKV(r)
        running.removeAll { $0 === r }
        retire(r)
        counters.finishedRequests += 1
        report.finished.append(r.id)
        r.sink(.event(.finished(reason, usage: Usage(promptTokens: r.request.prompt.count,
                                                     completionTokens: r.generated.count,
                                                     cachedTokens: r.cachedTokens))))
    }

    private func fail(_ r: ScheduledRequest, _ error: Error, _ report: inout StepReport) {
        releaseKV(r)
        running.removeAll { $0 === r }
        retire(r)
        report.finished.append(r.id)
        r.sink(.failure(error))
    }

    /// Frees a running request's blocks and requeues it first in line; when it runs again it
    /// prefills its prompt and what it generated so far, then continues where it stopped.
    private func preempt(_ r: ScheduledRequest, _ report: inout StepReport) {
        releaseKV(r)
        running.removeAll { $0 === r }
        r.state = .waiting
        r.drafts = []
        waiting.insert(r, at: 0)
        counters.preemptions += 1
        report.preempted.append(r.id)
    }

    private func retire(_ r: ScheduledRequest) {
        r.state = .finished
        live[r.id] = nil
        if options.checkInvariants { recentlyFinished.append(r.kv) }
    }

    // MARK: - Prefix cache bookkeeping

    /// Puts `r`'s computed full blocks into the prefix cache (so requests arriving meanwhile can
    /// share them) and moves its lock to the deepest one.
    private func cacheComputedBlocks(_ r: ScheduledRequest) {
        guard let radix, let start = r.node else { return }
        let full = r.kv.length / cache.blockSize
        guard full > start.depth else { return }
        let (node, adopted) = radix.insert(r.tokens[0..<full * cache.blockSize], blocks: r.kv.blocks[0..<full],
                                           below: start)
        for block in adopted { cache.retain(block) }
        radix.lock(node)
        radix.unlock(start)
        r.node = node
    }

    /// Drops `r`'s hold on the cache: its computed full blocks stay cached (when the prefix
    /// cache is on) for whoever sends the same prefix next; everything else is freed.
    private func releaseKV(_ r: ScheduledRequest) {
        if let radix, let node = r.node {
            cacheComputedBlocks(r)
            radix.unlock(r.node ?? node)
            r.node = nil
        }
        cache.release(r.kv)
    }
}
