import CoreMetrics
import Engine
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The server's Prometheus metrics (SGLang's names with a `glm:` prefix), recorded through
/// swift-metrics into a registry of this server's own, so that several servers in one process
/// (tests) never share counts.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    let promptTokens: CoreMetrics.Counter
    let generationTokens: CoreMetrics.Counter
    let abortedRequests: CoreMetrics.Counter
    let timeToFirstToken: CoreMetrics.Timer
    let interTokenLatency: CoreMetrics.Timer
    let requestLatency: CoreMetrics.Timer
    let queued: CoreMetrics.Meter
    let running: CoreMetrics.Meter
    let tokenUsage: CoreMetrics.Gauge
    let cacheHitRate: CoreMetrics.Gauge
    let specAcceptLength: CoreMetrics.Gauge
    /// KV blocks in all, on the free list, and held only by the prefix cache: with no request
    /// running, free + cached = total (every block is accounted for).
    let kvBlocksTotal: CoreMetrics.Gauge
    let kvBlocksFree: CoreMetrics.Gauge
    let kvBlocksCached: CoreMetrics.Gauge
    let draftTokens: CoreMetrics.Counter
    let acceptedDraftTokens: CoreMetrics.Counter
    /// The engine's draft counts at the last scrape, so that the counters grow by the difference.
    private let draftsSeen = Mutex((drafted: 0, accepted: 0))

    public init() {
        var f = PrometheusMetricsFactory(registry: registry)
        let latencyBuckets: [Duration] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                                          0.75, 1, 2.5].map { .milliseconds(Int($0 * 1000)) }
        let slowBuckets: [Duration] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320]
            .map { .milliseconds(Int($0 * 1000)) }
        f.durationHistogramBuckets = [
            "glm:time_to_first_token_seconds": slowBuckets,
            "glm:inter_token_latency_seconds": latencyBuckets,
            "glm:e2e_request_latency_seconds": slowBuckets,
        ]
        factory = f
        promptTokens = CoreMetrics.Counter(label: "glm:prompt_tokens_total", factory: f)
        generationTokens = CoreMetrics.Counter(label: "glm:generation_tokens_total", factory: f)
        abortedRequests = CoreMetrics.Counter(label: "glm:num_aborted_requests_total", factory: f)
        timeToFirstToken = CoreMetrics.Timer(label: "glm:time_to_first_token_seconds", factory: f)
        interTokenLatency = CoreMetrics.Timer(label: "glm:inter_token_latency_seconds", factory: f)
        requestLatency = CoreMetrics.Timer(label: "glm:e2e_request_latency_seconds", factory: f)
        queued = CoreMetrics.Meter(label: "glm:num_queue_reqs", factory: f)
        running = CoreMetrics.Meter(label: "glm:num_running_reqs", factory: f)
        tokenUsage = CoreMetrics.Gauge(label: "glm:token_usage", factory: f)
        cacheHitRate = CoreMetrics.Gauge(label: "glm:cache_hit_rate", factory: f)
        specAcceptLength = CoreMetrics.Gauge(label: "glm:spec_accept_length", factory: f)
        kvBlocksTotal = CoreMetrics.Gauge(label: "glm:kv_blocks_total", factory: f)
        kvBlocksFree = CoreMetrics.Gauge(label: "glm:kv_blocks_free", factory: f)
        kvBlocksCached = CoreMetrics.Gauge(label: "glm:kv_blocks_cached", factory: f)
        draftTokens = CoreMetrics.Counter(label: "glm:spec_decode_num_draft_tokens_total", factory: f)
        acceptedDraftTokens = CoreMetrics.Counter(label: "glm:spec_decode_num_accepted_tokens_total", factory: f)
        queued.set(0)
        running.set(0)
    }

    /// The engine's own figures, read when /metrics is scraped: KV cache use, prefix-cache hits,
    /// and speculative drafts (accept length: tokens per verifying round).
    func record(_ stats: EngineStats) {
        tokenUsage.record(stats.kvUsage)
        cacheHitRate.record(stats.prefixHitRate)
        kvBlocksTotal.record(stats.totalBlocks)
        kvBlocksFree.record(stats.freeBlocks)
        kvBlocksCached.record(stats.cachedBlocks)
        if stats.draftRounds > 0 { specAcceptLength.record(stats.acceptLength) }
        draftsSeen.withLock { seen in
            draftTokens.increment(by: max(0, stats.draftTokens - seen.drafted))
            acceptedDraftTokens.increment(by: max(0, stats.acceptedDraftTokens - seen.accepted))
            seen = (stats.draftTokens, stats.acceptedDraftTokens)
        }
    }

    /// Counts one HTTP response by endpoint and status code.
    func recordResponse(endpoint: String, status: Int) {
        CoreMetrics.Counter(label: "glm:http_requests_total", dimensions: [("endpoint", endpoint), ("status", String(status))],
                factory: factory).increment()
    }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }
}

extension ServerMetrics {
    /// Follows one engine request: waiting until its first token, then running.
    final class RequestTracker: @unchecked Sendable {
        private let metrics: ServerMetrics?
        private let start = ContinuousClock.now
        private var last: ContinuousClock.Instant?
        private var finished = false
        private let lock = NSLock()

        init(_ metrics: ServerMetrics?, promptTokens: Int) {
            self.metrics = metrics
            metrics?.queued.increment()
            metrics?.promptTokens.increment(by: promptTokens)
        }

        func token() {
            guard let metrics else { return }
            let now = ContinuousClock.now
            lock.withLock {
                if let last {
                    metrics.interTokenLatency.recordNanoseconds((now - last).nanoseconds)
                } else {
                    metrics.timeToFirstToken.recordNanoseconds((now - start).nanoseconds)
                    metrics.queued.decrement()
                    metrics.running.increment()
                }
                last = now
            }
            metrics.generationTokens.increment()
        }

        func finish(aborted: Bool) {
            guard let metrics else { return }
            lock.withLock {
                guard !finished else { return }
                finished = true
                if last == nil { metrics.queued.decrement() } else { metrics.running.decrement() }
                if aborted { metrics.abortedRequests.increment() }
                metrics.requestLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
            }
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
