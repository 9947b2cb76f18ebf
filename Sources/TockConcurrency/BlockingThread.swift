import Foundation

/// One dedicated OS thread that runs blocking work (hiredis calls, `rd_kafka_flush`, commits)
/// serially, so that such calls never occupy a thread of Swift's cooperative pool.
///
/// Jobs run in submission order. `run` suspends the calling task until its job has run.
/// The thread ends once the `BlockingThread` is released (or `shutdown()` is called) and its
/// queued jobs have run.
public final class BlockingThread: Sendable {
    // The thread holds the queue, not `self`, so releasing `self` is what ends it.
    private final class JobQueue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [() -> Void] = []
        var stopping = false

        func loop() {
            while true {
                condition.lock()
                while jobs.isEmpty && !stopping { condition.wait() }
                if jobs.isEmpty && stopping {
                    condition.unlock()
                    return
                }
                let batch = jobs
                jobs.removeAll(keepingCapacity: true)
                condition.unlock()
                for job in batch { job() }
            }
        }

        func stop() {
            condition.lock()
            stopping = true
            condition.signal()
            condition.unlock()
        }
    }

    private let queue = JobQueue()
    public let name: String

    public init(name: String) {
        self.name = name
        let queue = self.queue
        let thread = Thread {
            nameCurrentThread(name)
            queue.loop()
        }
        thread.name = name
        thread.start()
    }

    deinit { queue.stop() }

    /// Runs `body` on the dedicated thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            submit {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    /// Runs non-throwing `body` on the dedicated thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            submit { continuation.resume(returning: body()) }
        }
    }

    /// Queues `job` without waiting for it. A job submitted after `shutdown()` still runs if the
    /// thread has not drained yet; callers should not rely on that.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        queue.condition.lock()
        queue.jobs.append(job)
        queue.condition.signal()
        queue.condition.unlock()
    }

    /// Lets queued jobs finish, then ends the thread.
    public func shutdown() { queue.stop() }
}
