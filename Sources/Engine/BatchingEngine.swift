import Foundation
import Models

/// The serving engine: continuous batching, a paged KV cache with a memory budget, prefix
/// caching and chunked prefill (see `Scheduler`). A dedicated thread (the forward pass blocks,
/// so not Swift concurrency's cooperative pool) loops: take new requests and cancellations →
/// one scheduler step → publish stats; it sleeps when there is nothing to do.
public final class BatchingEngine: InferenceEngine, @unchecked Sendable {
    public let model: GLM4MoEModel
    public let options: EngineOptions
    private let worker: Worker

    /// Sizes the KV cache (throws `EngineConfigurationError` when the options can't work) and
    /// starts the scheduler thread.
    public init(model: GLM4MoEModel, options: EngineOptions = EngineOptions()) throws {
        self.model = model
        self.options = options
        worker = Worker(scheduler: try Scheduler(model: model, options: options))
        let thread = Thread { [worker] in worker.loop() }
        thread.name = "glm.scheduler"
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit { worker.stop() }

    public func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let ticket = Ticket(request: request, continuation: continuation)
        continuation.onTermination = { [worker] _ in worker.cancel(ticket) }
        worker.submit(ticket)
        return stream
    }

    /// Running and waiting requests, KV blocks, prefix-cache hits (for `/metrics`).
    public var stats: EngineStats { worker.stats }

    /// Positions one request may use (prompt plus max tokens).
    public var contextLength: Int { worker.contextLength }

    /// Invariant violations found after steps when `options.checkInvariants` is on.
    public var invariantViolations: [String] { worker.violations }

    /// Stops the scheduler thread; unfinished requests fail with `CancellationError`.
    public func shutdown() { worker.stop() }
}

/// A request on its way into the scheduler.
private final class Ticket: @unchecked Sendable {
    let request: GenerationRequest
    let continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    /// Set by the worker once submitted (under the worker's lock).
    var id: Int?
    var done = false

    init(request: GenerationRequest, continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation) {
        self.request = request
        self.continuation = continuation
    }
}

/// The scheduler thread and its mailbox.
private final class Worker: @unchecked Sendable {
    private let scheduler: Scheduler
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var inbox: [Ticket] = []
    private var cancellations: [Ticket] = []
    private var stopped = false
    private var snapshot: EngineStats
    private var violationLog: [String] = []
    /// Submitted, unfinished requests by scheduler id (scheduler thread only).
    private var live: [Int: Ticket] = [:]
    let contextLength: Int

    init(scheduler: Scheduler) {
        self.scheduler = scheduler
        snapshot = scheduler.stats
        contextLength = scheduler.contextLength
    }

    var stats: EngineStats { condition.withLock { snapshot } }
    var violations: [String] { condition.withLock { violationLog } }

    func submit(_ ticket: Ticket) {
        condition.lock()
        // Refuse at once when the queue is already full, without waiting for the current step.
        let queued = snapshot.waiting + inbox.count - max(0, scheduler.options.maxRunningRequests - snapshot.running)
        if stopped || queued >= scheduler.options.maxWaitingRequests {
            let waiting = snapshot.waiting + inbox.count
            let wasStopped = stopped
            condition.unlock()
            ticket.continuation.finish(throwing: wasStopped ? CancellationError() as Error : EngineError.overloaded(waiting: waiting))
            return
        }
        inbox.append(ticket)
        condition.signal()
        condition.unlock()
    }

    func cancel(_ ticket: Ticket) {
        condition.withLock {
            guard !ticket.done else { return }
            if let i = inbox.firstIndex(where: { $0 === ticket }) {
                inbox.remove(at: i)
            } else {
                cancellations.append(ticket)
                condition.signal()
            }
        }
    }

    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    func loop() {
        while true {
            condition.lock()
            while inbox.isEmpty && cancellations.isEmpty && scheduler.isIdle && !stopped { condition.wait() }
            if stopped {
                let unsubmitted = inbox
                inbox.removeAll()
                condition.unlock()
                for ticket in unsubmitted { ticket.continuation.finish(throwing: CancellationError()) }
                for id in live.keys.sorted() { scheduler.cancel(id) }
                return
            }
            let arrivals = inbox, cancelled = cancellations
            inbox.removeAll()
            cancellations.removeAll()
            condition.unlock()

            for ticket in cancelled { if let id = ticket.id { scheduler.cancel(id) } }
            for ticket in arrivals {
                let id = scheduler.submit(ticket.request) { [weak self] output in
                    self?.deliver(output, to: ticket)
                }
                if !ticket.done {
                    condition.withLock { ticket.id = id }
                    live[id] = ticket
                }
            }
            let report = scheduler.isIdle ? StepReport() : scheduler.step()
            for id in report.finished { live[id] = nil }
            var violation: String?
            if scheduler.options.checkInvariants {
                do { try scheduler.checkInvariants() } catch { violation = "\(error)" }
            }
            let stats = scheduler.stats
            condition.withLock {
                snapshot = stats
                if let violation { violationLog.append(violation) }
                // Nothing could run (waiting on memory that running requests hold): avoid spinning.
                if report.sequences == 0 && !scheduler.isIdle && inbox.isEmpty && cancellations.isEmpty {
                    _ = condition.wait(until: Date(timeIntervalSinceNow: 0.001))
                }
            }
        }
    }

    /// Called on the scheduler thread.
    private func deliver(_ output: RequestOutput, to ticket: Ticket) {
        switch output {
        case .event(let event):
            ticket.continuation.yield(event)
            if case .finished = event { close(ticket, error: nil) }
        case .failure(let error):
            close(ticket, error: error)
        }
    }

    private func close(_ ticket: Ticket, error: Error?) {
        condition.withLock { ticket.done = true }
        if let id = ticket.id { live[id] = nil }
        if let error { ticket.continuation.finish(throwing: error) } else { ticket.continuation.finish() }
    }
}
