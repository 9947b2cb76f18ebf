import Logging
import Synchronization
import TockCore
import TockTiming

/// The worker's claimed messages on their way to a lock: in the timing wheel until they expire
/// `delivery.lockAhead` before their due time, then pending until their lock is answered. A
/// claimed message this worker holds is in one of the two, so reconciliation can tell one it lost.
final class DeliveryWheel: Sendable {
    typealias Entry = TimingWheel<String>.Entry

    private let driver: TimingWheelDriver<String>
    /// Batches of expired entries, in due order.
    let expirations: AsyncStream<[Entry]>
    private let expirationsContinuation: AsyncStream<[Entry]>.Continuation
    /// Ids the wheel fired whose lock has not been answered yet (or that wait to go back into the
    /// wheel after a failed one): still claimed in Redis, and not lost.
    private let pending = Mutex<Set<String>>([])
    private let shardMap: ShardMap
    private let metrics: WorkerMetrics
    private let logger: Logger

    init(lockAheadMillis: Int64, shardMap: ShardMap, clock: any WallClock, metrics: WorkerMetrics, logger: Logger) {
        self.shardMap = shardMap
        self.metrics = metrics
        self.logger = logger
        let (stream, continuation) = AsyncStream<[Entry]>.makeStream()
        expirations = stream
        expirationsContinuation = continuation
        // Entries expire `delivery.lockAhead` before they are due, in batches of up to half of
        // that, so locking takes a few large Redis calls, not one per millisecond.
        driver = TimingWheelDriver<String>(clock: clock, leadMillis: lockAheadMillis, batchMillis: max(1, lockAheadMillis / 2)) {
            continuation.yield($0)
        }
    }

    func insert(_ entries: [(id: String, dueMillis: Int64)]) {
        guard !entries.isEmpty else { return }
        driver.insert(contentsOf: entries.map { Entry(id: $0.id, dueMillis: $0.dueMillis) })
        metrics.wheelEntries.record(driver.count)
    }

    func cancel(_ id: String) {
        driver.cancel(id)
        metrics.wheelEntries.record(driver.count)
    }

    /// Drops the entries of shards this worker no longer owns: their new owner fires them.
    func dropShards(_ shards: Set<Int>) {
        guard !shards.isEmpty else { return }
        let removed = driver.removeAll(where: { shards.contains(shardMap.shard(of: $0)) })
        metrics.wheelEntries.record(driver.count)
        logger.info("dropped wheel entries of lost shards", metadata: ["shards": "\(shards.sorted())", "entries": "\(removed.count)"])
    }

    /// Empties the wheel; returns how many entries it held.
    func removeAll() -> Int {
        let removed = driver.removeAll().count
        metrics.wheelEntries.record(0)
        return removed
    }

    /// A batch left the wheel: its ids are pending until `answered`.
    func expired(_ batch: [Entry]) {
        metrics.wheelEntries.record(driver.count)
        pending.withLock { pending in for entry in batch { pending.insert(entry.id) } }
    }

    func answered(_ ids: some Sequence<String>) {
        pending.withLock { pending in for id in ids { pending.remove(id) } }
    }

    /// The expired claims neither in the wheel nor pending (see `ClaimReconciliation`).
    func missing(_ expired: [(id: String, dueMillis: Int64)]) -> [(id: String, dueMillis: Int64)] {
        pending.withLock { pending in ClaimReconciliation.missing(expired, wheelHolds: { pending.contains($0) || driver.contains($0) }) }
    }

    /// Stops expiring entries and ends `expirations`.
    func stop() {
        driver.stop()
        expirationsContinuation.finish()
    }
}
