import CKernels
import Foundation

/// A persistent pool of worker threads (the calling thread works too). One job runs at a
/// time; concurrent callers take turns.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let pool: OpaquePointer
    private let lock = NSLock()

    private final class Job {
        let body: (Int, Int) -> Void
        init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
    }

    /// - Parameter threads: worker count including the caller; nil or 0 means all cores.
    public init(threads: Int? = nil) {
        let count = threads.flatMap { $0 > 0 ? $0 : nil } ?? ProcessInfo.processInfo.activeProcessorCount
        self.threads = max(1, count)
        pool = glm_pool_create(Int32(self.threads))
    }

    deinit { glm_pool_destroy(pool) }

    var raw: OpaquePointer { pool }

    /// Runs `body(task, thread)` for task in 0..<count across the pool and waits for all.
    public func parallelFor(_ count: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        guard count > 0 else { return }
        withoutActuallyEscaping(body) { escapable in
            let job = Job(escapable)
            lock.withLock {
                withExtendedLifetime(job) {
                    glm_pool_run(pool, Int64(count), { context, task, thread in
                        Unmanaged<Job>.fromOpaque(context!).takeUnretainedValue().body(Int(task), Int(thread))
                    }, Unmanaged.passUnretained(job).toOpaque())
                }
            }
        }
    }

    /// Runs a C kernel that takes the pool, holding the pool for its duration.
    func run<R>(_ body: (OpaquePointer) -> R) -> R {
        lock.withLock { body(pool) }
    }
}
