import TockStore

/// The delivery locks a worker holds, from `begin` until each of their deliveries is finished (a
/// batch may be finished in parts): their leases are renewed until then, so a slow broker never
/// lets another worker publish the same messages.
///
/// Each lock also has the monotonic instant until which this worker knows its lease holds: the
/// time its `begin` or last full renewal was sent, plus the lease, less a margin. The publish gate
/// hands a record to the producer only before that instant, so a worker that stalled past its
/// lease (stopped, swapped out, starved) does not publish what another worker may now be
/// publishing.
///
/// A lock is renewed only while it covers deliveries in progress: `handBackOverdue` gives up the
/// deliveries neither handed to the producer nor settled otherwise within a grace period after
/// their publish time (or after the lock was taken, for one locked late), and, as a backstop, those
/// whose outcome was not recorded within a longer one. Whatever holds them up here (a read-back queue, a producer
/// that never reports, a bug), they are not handed to the producer any more and the caller gives
/// them back to Redis; a lock left with nothing is not renewed. A lock nobody publishes under is
/// never kept alive.
struct HeldLocks: Sendable {
    /// What a held lock's deliveries are doing, for the log when some are given up.
    enum Stage: String, Sendable {
        case locked
        case readBack = "read-back"
        case rateSlots = "rate-slots"
        case publishing, recording
    }

    /// Where a held delivery is: not handed to the producer yet, handed over (it may be in Kafka),
    /// or settled without it (its outcome is being recorded: a retry, a dead letter, a skip).
    enum Progress: Sendable {
        case pending, sent, settled

        var order: Int {
            switch self {
            case .pending: 0
            case .sent: 1
            case .settled: 2
            }
        }
    }

    struct Lock: Sendable {
        var shard: Int
        /// Deliveries not finished yet, by entry, and how far each got.
        var deliveries: [String: (delivery: LockedDelivery, progress: Progress)]
        /// Until when its lease is known to hold.
        var validUntil: ContinuousClock.Instant
        /// When its earliest delivery is to be handed to the producer at the latest (epoch ms).
        var sendBy: Int64
        var stage: Stage = .locked
    }

    /// Deliveries of one lock that `handBackOverdue` gave up.
    struct Overdue: Sendable {
        var lock: String
        var shard: Int
        var deliveries: [LockedDelivery]
        /// How far they got: pending ones go back to the queue as they were, sent ones (they may
        /// be in Kafka) as a new attempt, read back first; settled ones are only forgotten (their
        /// outcome, a dead letter or a skip, must not turn into a retry): their lease runs out.
        var progress: Progress
        var overdueMillis: Int64
        var stage: Stage
    }

    private var locks: [String: Lock] = [:]

    /// - Parameters:
    ///   - lockedMillis: when the lock was taken.
    ///   - publishMillis: when each delivery is to be published at the latest in the normal course
    ///     (its due time, or a rate limit's furthest slot).
    mutating func hold(
        _ deliveries: [LockedDelivery], validUntil: ContinuousClock.Instant, lockedMillis: Int64, publishMillis: (LockedDelivery) -> Int64
    ) {
        for delivery in deliveries {
            let sendBy = max(lockedMillis, publishMillis(delivery))
            if locks[delivery.lock] == nil {
                locks[delivery.lock] = Lock(shard: delivery.shard, deliveries: [:], validUntil: validUntil, sendBy: sendBy)
            }
            locks[delivery.lock]!.deliveries[delivery.entry] = (delivery, .pending)
            locks[delivery.lock]!.sendBy = min(locks[delivery.lock]!.sendBy, sendBy)
        }
    }

    /// Forgets finished deliveries; a lock is forgotten with its last one.
    mutating func release(_ deliveries: [LockedDelivery]) {
        for delivery in deliveries where locks[delivery.lock] != nil {
            locks[delivery.lock]!.deliveries[delivery.entry] = nil
            if locks[delivery.lock]!.deliveries.isEmpty { locks[delivery.lock] = nil }
        }
    }

    /// Notes what `deliveries`' locks are doing now. From `.recording` on, the deliveries not sent
    /// are settled: their outcome is decided and on its way to Redis.
    mutating func enter(_ stage: Stage, _ deliveries: [LockedDelivery]) {
        for lock in Set(deliveries.map(\.lock)) where locks[lock] != nil { locks[lock]!.stage = stage }
        guard stage == .recording else { return }
        for delivery in deliveries where locks[delivery.lock]?.deliveries[delivery.entry]?.progress == .pending {
            locks[delivery.lock]!.deliveries[delivery.entry]!.progress = .settled
        }
    }

    /// The locks to renew, per shard.
    var renewal: [Int: [String]] {
        var byShard: [Int: [String]] = [:]
        for (id, lock) in locks { byShard[lock.shard, default: []].append(id) }
        return byShard.mapValues { $0.sorted() }
    }

    /// After a renewal of `locks` that Redis applied to every one of them: they hold until
    /// `validUntil`. A partial renewal (some lock was reaped meanwhile) extends none, since the
    /// reply does not say which.
    mutating func renewed(_ renewed: [Int: [String]], validUntil: ContinuousClock.Instant) {
        for id in renewed.values.joined() where locks[id] != nil {
            locks[id]!.validUntil = max(locks[id]!.validUntil, validUntil)
        }
    }

    /// Whether each of `deliveries` may be handed to the producer now: it is still held here and
    /// its lock's lease known to hold until `sentBy`. Those that may are marked sent in the same
    /// step, so that one given up later is known to have been sent.
    mutating func takeForSending(_ deliveries: [LockedDelivery], sentBy: ContinuousClock.Instant) -> [Bool] {
        deliveries.map { delivery in
            guard let lock = locks[delivery.lock], lock.deliveries[delivery.entry] != nil, sentBy < lock.validUntil else { return false }
            locks[delivery.lock]!.deliveries[delivery.entry]!.progress = .sent
            return true
        }
    }

    /// Gives up, at `nowMillis`, the deliveries still pending more than `unsentGraceMillis` after
    /// their lock's `sendBy`, and those sent or settled but not finished `sentGraceMillis` after it:
    /// they are forgotten here, so they are neither published nor renewed for.
    mutating func handBackOverdue(nowMillis: Int64, unsentGraceMillis: Int64, sentGraceMillis: Int64) -> [Overdue] {
        var overdue: [Overdue] = []
        for (id, lock) in locks where nowMillis - lock.sendBy > unsentGraceMillis {
            let late = nowMillis - lock.sendBy
            for progress in late > sentGraceMillis ? [Progress.pending, .sent, .settled] : [.pending] {
                let given = lock.deliveries.values.filter { $0.progress == progress }.map(\.delivery).sorted { $0.entry < $1.entry }
                guard !given.isEmpty else { continue }
                for delivery in given { locks[id]!.deliveries[delivery.entry] = nil }
                overdue.append(Overdue(lock: id, shard: lock.shard, deliveries: given, progress: progress, overdueMillis: late, stage: lock.stage))
            }
            if locks[id]!.deliveries.isEmpty { locks[id] = nil }
        }
        return overdue.sorted { ($0.lock, $0.progress.order) < ($1.lock, $1.progress.order) }
    }

    /// How long past its `sendBy` the oldest lock still held is, in ms (0 when none is late).
    func oldestOverdueMillis(nowMillis: Int64) -> Int64 {
        locks.values.lazy.map(\.sendBy).min().map { max(0, nowMillis - $0) } ?? 0
    }

    /// Until when `lock`'s lease is known to hold, if it is held here.
    func validUntil(_ lock: String) -> ContinuousClock.Instant? { locks[lock]?.validUntil }

    /// Whether `lock`'s lease is known to hold at `now`.
    func holds(_ lock: String, at now: ContinuousClock.Instant) -> Bool {
        validUntil(lock).map { now < $0 } ?? false
    }

    var isEmpty: Bool { locks.isEmpty }
}
