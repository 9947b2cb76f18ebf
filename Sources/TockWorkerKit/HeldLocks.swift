import TockStore

/// The delivery locks a worker holds, per shard, from `begin` until each of their deliveries is
/// finished (a batch may be finished in parts): their leases are renewed until then, so a slow
/// broker never lets another worker publish the same messages.
///
/// Each lock also has the monotonic instant until which this worker knows its lease holds: the
/// time its `begin` or last full renewal was sent, plus the lease, less a margin. The publish gate
/// hands a record to the producer only before that instant, so a worker that stalled past its
/// lease (stopped, swapped out, starved) does not publish what another worker may now be
/// publishing.
struct HeldLocks: Sendable {
    /// Per shard, per lock: deliveries not finished yet.
    private var byShard: [Int: [String: Int]] = [:]
    private var validUntil: [String: ContinuousClock.Instant] = [:]

    mutating func hold(_ deliveries: [LockedDelivery], validUntil: ContinuousClock.Instant) {
        for delivery in deliveries {
            byShard[delivery.shard, default: [:]][delivery.lock, default: 0] += 1
            self.validUntil[delivery.lock] = validUntil
        }
    }

    mutating func release(_ deliveries: [LockedDelivery]) {
        for delivery in deliveries {
            guard let left = byShard[delivery.shard]?[delivery.lock] else { continue }
            if left > 1 {
                byShard[delivery.shard]![delivery.lock] = left - 1
            } else {
                byShard[delivery.shard]![delivery.lock] = nil
                validUntil[delivery.lock] = nil
            }
            if byShard[delivery.shard]!.isEmpty { byShard.removeValue(forKey: delivery.shard) }
        }
    }

    /// The locks to renew, per shard.
    var renewal: [Int: [String]] { byShard.mapValues { $0.keys.sorted() } }

    /// After a renewal of `locks` that Redis applied to every one of them: they hold until
    /// `validUntil`. A partial renewal (some lock was reaped meanwhile) extends none, since the
    /// reply does not say which.
    mutating func renewed(_ locks: [Int: [String]], validUntil: ContinuousClock.Instant) {
        for lock in locks.values.joined() where self.validUntil[lock] != nil {
            self.validUntil[lock] = max(self.validUntil[lock]!, validUntil)
        }
    }

    /// Until when `lock`'s lease is known to hold, if it is held here.
    func validUntil(_ lock: String) -> ContinuousClock.Instant? { validUntil[lock] }

    /// Whether `lock`'s lease is known to hold at `now`.
    func holds(_ lock: String, at now: ContinuousClock.Instant) -> Bool {
        validUntil[lock].map { now < $0 } ?? false
    }

    var isEmpty: Bool { byShard.isEmpty }
}
