import TockCore
import TockRedis

/// One request as the store script takes it.
public struct StoreEntry: Sendable, Hashable {
    public enum Operation: String, Sendable {
        case schedule = "S"
        case reschedule = "R"
        case cancel = "C"
        /// A series (`ScheduledMessage.series`): `dueMillis` is its first occurrence's.
        case scheduleSeries = "T"
        case rescheduleSeries = "U"
        /// A rejected record: it only advances the watermark, so a re-read is not rejected twice.
        case noop = "N"
        /// A cold message (docs/tiered-storage.md): its record is in Kafka, its index entry is
        /// written here. `coldVersion` is the record's.
        case scheduleCold = "K"
        case rescheduleCold = "Q"
        /// `tock-action: pause` / `resume` of a series (the operators' API).
        case pauseSeries = "P"
        case resumeSeries = "M"
    }

    public var operation: Operation
    /// "topic/partition" of the input record.
    public var topicPartition: String
    public var offset: Int64
    public var id: String
    /// Set when the id was given (`tock-id`): only then can a producer send it twice.
    public var tombstone: Tombstone?
    public var dueMillis: Int64
    public var blob: [UInt8]
    /// The cold record's version (`ColdRecord`), for `scheduleCold` and `rescheduleCold`.
    public var coldVersion: UInt32?
    /// `tock-tags` as given (`a,b`; "" = none): a schedule or reschedule gives the id exactly these.
    public var tags = ""

    /// What the queue and the wheel hold for it: the id, or a series' first occurrence.
    public var entry: String {
        switch operation {
        case .scheduleSeries, .rescheduleSeries: OccurrenceKey.key(series: id, dueMillis: dueMillis)
        default: id
        }
    }

    public init(
        operation: Operation, topicPartition: String, offset: Int64, id: String, tombstone: Tombstone?, dueMillis: Int64, blob: [UInt8],
        coldVersion: UInt32? = nil
    ) {
        self.coldVersion = coldVersion
        self.operation = operation
        self.topicPartition = topicPartition
        self.offset = offset
        self.id = id
        self.tombstone = tombstone
        self.dueMillis = dueMillis
        self.blob = blob
    }
}

/// What a batch tells every shard it stores records in about one input partition: which
/// incarnation its records belong to (`InputPartitionCheck`), and its last record in the batch.
/// Each such shard's watermark moves to that record: every earlier record of the partition for
/// the shard is in this batch or an earlier one.
public struct BatchWatermark: Sendable, Hashable {
    public var generation: Int
    public var topicID: String?
    /// The offset of the partition's last record in the batch.
    public var offset: Int64
    /// That record's `InputRecord.fingerprint`.
    public var fingerprint: String

    public init(generation: Int, topicID: String?, offset: Int64, fingerprint: String) {
        self.generation = generation
        self.topicID = topicID
        self.offset = offset
        self.fingerprint = fingerprint
    }
}

/// What the store did with one entry.
public enum StoreOutcome: String, Sendable, CaseIterable {
    case stored
    /// Stored straight into the claimed set: the caller owns the shard and it is due soon.
    case claimed
    case duplicate
    case tombstoned
    case reread
    case noop
    case rescheduled
    case rescheduledClaimed = "rescheduled-claimed"
    case cancelled
    case cancelUnknown = "cancel-unknown"
    case cancelEnded = "cancel-ended"
    case delivering
    /// Stored in the cold index: the message's record is in Kafka.
    case cold
    /// Rescheduled to a cold due time: the index entry is new or replaced; a hot message of the id
    /// left the hot store.
    case rescheduledCold = "rescheduled-cold"
    /// A series paused or resumed; `not-paused`: a resume of a series that is not paused;
    /// `series-unknown`: a pause or resume of an id that names no series.
    case paused
    case resumed
    case notPaused = "not-paused"
    case seriesUnknown = "series-unknown"

    /// Whether the entry, when its id was given, wrote its tombstone into the current window.
    var wroteTombstone: Bool {
        switch self {
        case .stored, .claimed, .rescheduled, .rescheduledClaimed, .cancelled, .cancelUnknown: true
        case .duplicate, .tombstoned, .reread, .noop, .cancelEnded, .delivering, .cold, .rescheduledCold, .paused, .resumed, .notPaused,
            .seriesUnknown:
            false
        }
    }
}

/// A shard owner at an epoch: every claim, begin and release call carries it.
public struct ShardOwnership: Sendable, Hashable {
    public var worker: String
    public var epoch: Int64

    public init(worker: String, epoch: Int64) {
        self.worker = worker
        self.epoch = epoch
    }
}

/// What the monitor judges the workers by (`workers.lua`): each one's last heartbeat and the
/// reference clock's time then, both Redis's, and the workers that fire nothing (their clock).
public struct WorkerHeartbeats: Sendable, Equatable {
    public var referenceMillis: Int64
    public var heartbeats: [String: Int64]
    public var holding: Set<String>

    public init(referenceMillis: Int64, heartbeats: [String: Int64], holding: Set<String> = []) {
        self.referenceMillis = referenceMillis
        self.heartbeats = heartbeats
        self.holding = holding
    }
}

/// Someone else's hold on a lease, as seen when asking for it.
public struct LeaseHolder: Sendable, Equatable {
    public var holder: String
    /// Until it expires, unless renewed; negative when the key has no expiry.
    public var remainingMillis: Int64

    public init(holder: String, remainingMillis: Int64) {
        self.holder = holder
        self.remainingMillis = remainingMillis
    }
}

/// A message, or a series occurrence, whose delivery lock the caller holds.
public struct LockedDelivery: Sendable {
    public var shard: Int
    /// The lock it is under: one per shard and fired batch.
    public var lock: String
    /// What the lock, queue and wheel hold: the message's id, or the occurrence's key (`OccurrenceKey`).
    public var entry: String
    /// The time its wheel entry was due (the original due time, or a retry time).
    public var fireMillis: Int64
    public var attempt: Int
    /// The message to publish; for an occurrence, its series' with the occurrence's id and due time.
    public var message: ScheduledMessage
    /// Set for a series occurrence.
    public var series: SeriesProgress?

    public init(
        shard: Int, lock: String, fireMillis: Int64, attempt: Int, message: ScheduledMessage, entry: String? = nil,
        series: SeriesProgress? = nil
    ) {
        self.shard = shard
        self.lock = lock
        self.entry = entry ?? message.id
        self.series = series
        self.fireMillis = fireMillis
        self.attempt = attempt
        self.message = message
    }
}

/// What became of the deliveries under one lock, for `ScheduleStore.finish`.
public struct LockOutcome: Sendable {
    public struct Done: Sendable {
        public var id: String
        public var attempt: Int
        /// Set when the id was given: the id is then remembered for dedup.retention.
        public var tombstone: Tombstone?
        /// When it was stored: its tombstone was written then (0: unknown).
        public var storedMillis: Int64 = 0
    }

    /// A series occurrence done with: published, dead-lettered or skipped. `finish` places the
    /// series' next occurrence, or ends the series.
    public struct SeriesStep: Sendable {
        public var entry: String
        public var attempt: Int
        /// The series' tombstone when its id was given: written when the series ends.
        public var tombstone: Tombstone?
        public var storedMillis: Int64
        /// The state `begin` saw: the step is taken only if the series still has it.
        public var expected: String
        /// Nil: the series ends.
        public var nextMillis: Int64?
        /// False when the occurrence was skipped, not published: `finish` counts a published one
        /// and raises the series' published-through mark to it.
        public var published: Bool
    }

    public struct Retry: Sendable {
        public var id: String
        public var nextMillis: Int64
        /// The attempt that failed.
        public var attempt: Int
    }

    public var shard: Int
    public var lock: String
    /// Published or dead-lettered: gone.
    public var done: [Done] = []
    /// Failed: queued again at their next attempt time.
    public var retries: [Retry] = []
    public var steps: [SeriesStep] = []
    /// Nothing could be recorded: they stay locked, and the lease's expiry retries them. `finish`
    /// does not send them; the lock keeps covering every delivery not done or retried.
    public var kept: [String] = []

    public init(shard: Int, lock: String) {
        self.shard = shard
        self.lock = lock
    }

    /// Published or dead-lettered; a series occurrence moves its series on.
    public mutating func markDone(_ delivery: LockedDelivery) {
        if let series = delivery.series {
            step(delivery, series, to: series.nextAfterPublishing, published: true)
            return
        }
        done.append(
            Done(
                id: delivery.entry, attempt: delivery.attempt,
                tombstone: delivery.message.idWasGiven ? Tombstone(id: delivery.message.id) : nil,
                storedMillis: delivery.message.storedMillis))
    }

    /// A series occurrence left unpublished (`tock-catchup`, or published before a reschedule):
    /// the series goes on at `next` (nil: it ends).
    public mutating func markSkipped(_ delivery: LockedDelivery, next: Int64?) {
        guard let series = delivery.series else { return }
        step(delivery, series, to: next, published: false)
    }

    private mutating func step(_ delivery: LockedDelivery, _ series: SeriesProgress, to next: Int64?, published: Bool) {
        steps.append(
            SeriesStep(
                entry: delivery.entry, attempt: delivery.attempt,
                tombstone: delivery.message.idWasGiven ? Tombstone(id: series.id) : nil,
                storedMillis: delivery.message.storedMillis, expected: series.state.stored, nextMillis: next,
                published: published))
    }

    /// `counted`: false when the attempt never happened, so the next one carries its number again.
    public mutating func markRetry(_ delivery: LockedDelivery, atMillis next: Int64, counted: Bool = true) {
        retries.append(Retry(id: delivery.entry, nextMillis: next, attempt: counted ? delivery.attempt : delivery.attempt - 1))
    }

    public mutating func markKept(_ delivery: LockedDelivery) { kept.append(delivery.entry) }
}

/// The store's answer to one `LockOutcome`.
public struct FinishedLock: Sendable {
    public var shard: Int
    public var lock: String
    /// False when the lock was gone: its lease had run out and its messages were queued again.
    public var held: Bool
    /// Retries, and series' next occurrences, due by the owner's claimed-up-to time: the caller
    /// puts them in its wheel.
    public var claimed: [(id: String, nextMillis: Int64)]
    /// Series that ended with this call.
    public var seriesEnded = 0
}

public struct MessageStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        /// In the cold tier (its record in Kafka); `scoreMillis` is its due time.
        case pending, claimed, delivering, ended, unknown, cold
        /// A series paused through the operators' API: it publishes nothing until resumed.
        case paused
    }

    public var id: String
    public var shard: Int
    public var state: State
    /// Next fire time (pending, claimed), or lease expiry (delivering).
    public var scoreMillis: Int64?
    public var attempts: Int
    public var message: ScheduledMessage?
    /// For a series: its state; the other fields are about its current occurrence.
    public var series: SeriesState?
}

public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The caller does not own the shard at that epoch (any more).
    case fenced(shard: Int, detail: String)
    case redis(RedisError)
    case shardCountMismatch(configured: Int, stored: Int)
    /// The dataset was written by a Tock with another store layout.
    case formatMismatch(expected: Int, stored: String)
    /// store.coldHourSlot and store.coldDaySlot differ from those the dataset was written with.
    case coldSlotsMismatch(configured: String, stored: String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .fenced(let shard, let detail): "shard \(shard) is fenced: \(detail)"
        case .redis(let error): "\(error)"
        case .shardCountMismatch(let configured, let stored):
            "store.shards is \(configured) but this Redis dataset was created with \(stored) shards; the count is fixed for the life of a dataset"
        case .formatMismatch(let expected, let stored):
            "this Redis dataset is in store format \(stored), and this Tock reads only format \(expected); there is no migration: "
                + "drain it with the Tock that wrote it, or delete its keys (store.keyPrefix), or use another store.keyPrefix"
        case .coldSlotsMismatch(let configured, let stored):
            "store.coldHourSlot and store.coldDaySlot are \(configured), but this Redis dataset's cold messages were written with "
                + "\(stored); they are fixed for the life of a dataset: use the settings it was written with"
        case .corrupt(let detail): "corrupt store data: \(detail)"
        }
    }

    public var isRetriable: Bool {
        if case .redis(let error) = self { return error.isRetriable }
        return false
    }
}

/// Messages stored, and how many are due by the end of each of the next 60 minutes and by a day
/// from now (`ScheduleStore.dueLoad`).
public struct DueLoad: Sendable, Equatable, Codable {
    /// Messages (and series) stored: pending, claimed or being delivered, cold ones included.
    public var pending: Int
    /// Cumulative: `dueBy[i]` are due within i + 1 minutes (overdue ones included); the last is a
    /// day. Cold messages count by their hour slot's end.
    public var dueBy: [Int]
    /// Of `pending`, those in the cold tier.
    public var cold: Int

    public init(pending: Int, dueBy: [Int], cold: Int = 0) {
        self.pending = pending
        self.dueBy = dueBy
        self.cold = cold
    }

    public var withinMinute: Int { dueBy.first ?? 0 }
    public var withinTenMinutes: Int { dueBy.count > 9 ? dueBy[9] : 0 }
    public var withinHour: Int { dueBy.count > 59 ? dueBy[59] : 0 }
    public var withinDay: Int { dueBy.last ?? 0 }
    /// Due in each of the next 60 minutes (the first minute with what is overdue).
    public var perMinute: [Int] { (0..<min(60, dueBy.count)).map { $0 == 0 ? dueBy[0] : dueBy[$0] - dueBy[$0 - 1] } }
}
