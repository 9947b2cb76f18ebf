import Foundation
import TockConcurrency
import TockCore

/// Runs a `TimingWheel` on its own thread: it sleeps until the earliest non-empty bucket is due
/// (or until an insert brings that time closer) and hands each batch of expired entries to a
/// handler, on the driver's thread, outside the wheel's lock.
///
/// With a `leadMillis`, entries expire that long before their due time (the worker locks a
/// delivery ahead, then publishes it at the exact time through a `DueGate`); with a
/// `batchMillis`, the thread wakes at most once per that many milliseconds, so a steady stream
/// of due times expires in fewer, larger batches.
public final class TimingWheelDriver<ID: Hashable & Sendable>: @unchecked Sendable {
    public typealias Entry = TimingWheel<ID>.Entry

    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    private var wheel: TimingWheel<ID>
    private var sleepingUntil: Int64?
    private var sleeping = false
    private var stopped = false
    private let clock: any WallClock
    private let leadMillis: Int64
    private let batchMillis: Int64
    private let handler: @Sendable ([Entry]) -> Void

    /// - Parameter handler: called with each non-empty batch of expired entries, on the driver thread.
    public init(
        clock: any WallClock = SystemWallClock(),
        wheelSize: Int = 512,
        leadMillis: Int64 = 0,
        batchMillis: Int64 = 1,
        name: String = "tock-wheel",
        handler: @escaping @Sendable ([Entry]) -> Void
    ) {
        precondition(leadMillis >= 0 && batchMillis >= 1)
        self.clock = clock
        self.leadMillis = leadMillis
        self.batchMillis = batchMillis
        self.handler = handler
        self.wheel = TimingWheel(startMillis: clock.nowMillis(), tickMillis: 1, wheelSize: wheelSize)
        let thread = Thread { [self] in
            nameCurrentThread(name)
            self.run()
        }
        thread.name = name
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// A driver whose expirations arrive as an `AsyncStream` of batches.
    public static func makeStream(
        clock: any WallClock = SystemWallClock(),
        wheelSize: Int = 512,
        leadMillis: Int64 = 0,
        batchMillis: Int64 = 1
    ) -> (driver: TimingWheelDriver<ID>, expirations: AsyncStream<[Entry]>) {
        let (stream, continuation) = AsyncStream<[Entry]>.makeStream()
        let driver = TimingWheelDriver(clock: clock, wheelSize: wheelSize, leadMillis: leadMillis, batchMillis: batchMillis) {
            continuation.yield($0)
        }
        continuation.onTermination = { [weak driver] _ in driver?.stop() }
        return (driver, stream)
    }

    public var count: Int { locked { $0.count } }

    @discardableResult
    public func insert(_ id: ID, dueMillis: Int64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let isNew = wheel.insert(id, dueMillis: dueMillis)
        wakeIfSooner(dueMillis)
        return isNew
    }

    public func insert<S: Sequence>(contentsOf entries: S) where S.Element == Entry {
        condition.lock()
        defer { condition.unlock() }
        var earliest = Int64.max
        for entry in entries {
            wheel.insert(entry.id, dueMillis: entry.dueMillis)
            earliest = min(earliest, entry.dueMillis)
        }
        wakeIfSooner(earliest)
    }

    @discardableResult
    public func cancel(_ id: ID) -> Int64? { locked { $0.cancel(id) } }

    public func contains(_ id: ID) -> Bool { locked { $0.contains(id) } }

    /// Takes every entry out of the wheel, e.g. to give them back to the store on shutdown.
    public func removeAll() -> [Entry] { locked { $0.removeAll() } }

    /// Takes the matching entries out of the wheel.
    public func removeAll(where shouldRemove: (ID) -> Bool) -> [Entry] { locked { $0.removeAll(where: shouldRemove) } }

    /// Ends the driver thread; entries still held stay in the wheel (see `removeAll`).
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func locked<T>(_ body: (inout TimingWheel<ID>) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body(&wheel)
    }

    private func wakeIfSooner(_ dueMillis: Int64) {
        guard sleeping else { return }
        if let until = sleepingUntil, until <= dueMillis - leadMillis { return }
        condition.signal()
    }

    private func run() {
        condition.lock()
        while !stopped {
            let now = clock.nowMillis()
            let expired = wheel.advance(to: now + leadMillis)
            if !expired.isEmpty {
                condition.unlock()
                handler(expired)
                condition.lock()
                continue
            }
            let next = wheel.nextDeadline.map { deadline in
                // `deadline - lead <= now` happens only when the wall clock stepped back under a
                // ready entry: poll each millisecond until it is due rather than spin.
                let wakeAt = max(deadline - leadMillis, now + 1)
                return (wakeAt + batchMillis - 1) / batchMillis * batchMillis
            }
            sleeping = true
            sleepingUntil = next
            if let wakeAt = next {
                // Counted on the driver's clock, which need not be the wall clock the wait is timed by.
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wakeAt * 1_000 - clock.nowMicros()) / 1e6))
            } else {
                condition.wait()
            }
            sleeping = false
        }
        condition.unlock()
    }
}
