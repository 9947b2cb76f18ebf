import CThreadOptions
import Foundation
import HeapModule
import TockConcurrency
import TockCore

/// Runs jobs at exact wall-clock instants on a thread of its own: never before their time, and
/// without waiting for a thread of Swift's cooperative pool, which a busy process may hold for
/// milliseconds. The worker uses it to publish locked deliveries at their due time.
public final class DueGate: @unchecked Sendable {
    private struct Job: Comparable {
        let atMillis: Int64
        let sequence: UInt64
        let body: () -> Void
        static func < (a: Job, b: Job) -> Bool { (a.atMillis, a.sequence) < (b.atMillis, b.sequence) }
        static func == (a: Job, b: Job) -> Bool { (a.atMillis, a.sequence) == (b.atMillis, b.sequence) }
    }

    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs = Heap<Job>()
    private var sequence: UInt64 = 0
    private var stopped = false
    private let clock: any WallClock

    public init(clock: any WallClock = SystemWallClock(), name: String = "tock-gate") {
        self.clock = clock
        let thread = Thread { [self] in
            nameCurrentThread(name)
            // Linux may end a timed sleep up to 50 µs late by default; a gate thread asks for 1 ns.
            _ = tock_set_timer_slack(1)
            self.run()
        }
        thread.name = name
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Runs `body` on the gate's thread once the clock reads `atMillis` or later, and returns its
    /// result.
    public func run<T: Sendable>(at atMillis: Int64, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            schedule(at: atMillis) { continuation.resume(returning: body()) }
        }
    }

    /// Runs each body on the gate's thread at its time, and returns their results, in order, once
    /// the last has run: one suspension for a whole publish schedule.
    public func run<T: Sendable>(schedule: [(atMillis: Int64, body: @Sendable () -> T)]) async -> [T] {
        guard !schedule.isEmpty else { return [] }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[T], Never>) in
            let results = ScheduleResults<T>(count: schedule.count, continuation: continuation)
            for (index, job) in schedule.enumerated() {
                self.schedule(at: job.atMillis) { results.set(index, job.body()) }
            }
        }
    }

    /// Queues `body` to run on the gate's thread once the clock reads `atMillis` or later; jobs
    /// due at the same millisecond run in the order they were queued. After `stop()`, `body`
    /// runs on the caller's thread, which first sleeps until `atMillis`: never early.
    public func schedule(at atMillis: Int64, _ body: @escaping @Sendable () -> Void) {
        condition.lock()
        if stopped {
            condition.unlock()
            while clock.nowMillis() < atMillis { usleep(200) }
            body()
            return
        }
        sequence &+= 1
        let wakesSooner = jobs.min.map { atMillis < $0.atMillis } ?? true
        jobs.insert(Job(atMillis: atMillis, sequence: sequence, body: body))
        if wakesSooner { condition.signal() }
        condition.unlock()
    }

    /// Runs what is queued at its time, then ends the thread.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    public var pendingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    private func run() {
        condition.lock()
        while true {
            guard let first = jobs.min else {
                if stopped { break }
                condition.wait()
                continue
            }
            let now = clock.nowMillis()
            if first.atMillis <= now {
                var due: [Job] = []
                while let job = jobs.min, job.atMillis <= now { due.append(jobs.removeMin()) }
                condition.unlock()
                for job in due { job.body() }
                condition.lock()
                continue
            }
            // 20 µs past the millisecond: a timed wait converted through a Double can end a hair
            // before it, and the loop would then sleep once more for nothing. Counted from now on
            // the gate's clock, which need not be the wall clock the wait is timed by (a reference
            // clock: SPEC guarantee 5).
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(first.atMillis * 1_000 - clock.nowMicros() + 20) / 1e6))
        }
        condition.unlock()
    }
}

/// The results of one `DueGate.run(schedule:)`, filled in on the gate's thread.
private final class ScheduleResults<T: Sendable>: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var values: [T?]
    private var remaining: Int
    private let continuation: CheckedContinuation<[T], Never>

    init(count: Int, continuation: CheckedContinuation<[T], Never>) {
        values = Array(repeating: nil, count: count)
        remaining = count
        self.continuation = continuation
    }

    func set(_ index: Int, _ value: T) {
        lock.lock()
        values[index] = value
        remaining -= 1
        let done = remaining == 0
        lock.unlock()
        if done { continuation.resume(returning: values.map { $0! }) }
    }
}
