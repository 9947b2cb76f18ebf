import Synchronization
import TockCore
import TockKafka
import TockStore

/// What the worker's services share: the shards it owns at which epoch, and readiness.
public final class WorkerState: Sendable {
    private struct Fields {
        var ownerships: [Int: ShardOwnership] = [:]
        var consumerAssigned = false
        var ownershipAcquired = false
        var lastRedisError: String?
        /// What the worker waits for before it can start (the standalone lease).
        var waitingFor: String?
        /// Input partitions assigned since ingest last looked, to check for a recreated topic.
        var newlyAssigned: Set<KafkaTopicPartition> = []
        /// How the clock stands (SPEC guarantee 5); the worker fires only while it `canFire`.
        var clock = ClockStatus(state: .unmeasured, detail: "clock: not measured against the reference (Redis TIME) yet")
    }

    /// What a change of the clock's status means for the shards.
    public enum ClockChange: Sendable, Equatable {
        /// Firing stops: these shards are no longer fired from (their wheel entries can go).
        case held([Int: ShardOwnership])
        /// Firing resumes on these shards (what the wheel dropped must be claimed again).
        case resumed([Int: ShardOwnership])
    }

    private let fields = Mutex(Fields())
    public let workerID: String
    /// Distinguishes this process from an earlier one under the same worker id: delivery locks
    /// carry it, so a restarted worker never completes what its previous life locked.
    public let token: String
    /// Recent firing, rejections and dead letters: the heartbeat's summary for the console.
    public let activity = WorkerActivity()
    /// Shards whose writes wait for replicas (`store.replicaAcks`); the worker's stores share it.
    public let replicaWaits: ReplicaWaits

    public init(workerID: String, token: String, replicaWaits: ReplicaWaits = ReplicaWaits()) {
        self.workerID = workerID
        self.token = token
        self.replicaWaits = replicaWaits
    }

    /// Owned shards whose writes wait for replicas, or nil.
    public var replicaWait: ReplicaWait? { replicaWaits.current(among: Set(ownerships.keys)) }

    /// The heartbeat's summary: the activity, and the shards that wait for replicas.
    public func summary(nowMillis: Int64) -> WorkerSummary {
        var summary = activity.summary(nowMillis: nowMillis)
        summary.replicaWait = replicaWait
        summary.clock = clock
        return summary
    }

    /// The shards to fire from: none while the clock holds the worker back (its ownerships stay
    /// recorded, for when it resumes or the monitor moves them).
    public var ownerships: [Int: ShardOwnership] { fields.withLock { $0.clock.canFire ? $0.ownerships : [:] } }

    public func ownership(of shard: Int) -> ShardOwnership? { fields.withLock { $0.clock.canFire ? $0.ownerships[shard] : nil } }

    public var clock: ClockStatus { fields.withLock { $0.clock } }

    /// Whether the clock holds the worker back from firing.
    public var firingHeld: Bool { fields.withLock { !$0.clock.canFire } }

    /// Records the clock's status; says when that stops or resumes firing.
    public func setClock(_ status: ClockStatus) -> ClockChange? {
        fields.withLock { f in
            let could = f.clock.canFire
            f.clock = status
            if could == status.canFire { return nil }
            return status.canFire ? .resumed(f.ownerships) : .held(f.ownerships)
        }
    }

    public func setOwnerships(_ ownerships: [Int: ShardOwnership]) {
        fields.withLock {
            $0.ownerships = ownerships
            $0.ownershipAcquired = true
        }
    }

    /// Adds or updates shards (monitored mode: the monitor assigned them).
    public func addShards(_ ownerships: [Int: ShardOwnership]) {
        fields.withLock { f in
            for (shard, owner) in ownerships { f.ownerships[shard] = owner }
            f.ownershipAcquired = true
        }
    }

    /// Marks ownership as settled even with no shards (a worker the monitor gave nothing yet).
    public func markOwnershipAcquired() { fields.withLock { $0.ownershipAcquired = true } }

    /// Forgets a shard whose calls were fenced; returns whether it was held.
    @discardableResult
    public func dropShard(_ shard: Int) -> Bool { fields.withLock { $0.ownerships.removeValue(forKey: shard) != nil } }

    public func noteAssigned(_ partitions: [KafkaTopicPartition]) {
        fields.withLock {
            $0.newlyAssigned.formUnion(partitions)
            $0.consumerAssigned = true
        }
    }

    public func noteRevoked(_ partitions: [KafkaTopicPartition]) {
        fields.withLock { $0.newlyAssigned.subtract(partitions) }
    }

    public func takeNewlyAssigned() -> Set<KafkaTopicPartition> {
        fields.withLock { f in
            defer { f.newlyAssigned.removeAll() }
            return f.newlyAssigned
        }
    }

    /// Puts partitions back whose check could not be done.
    public func returnNewlyAssigned(_ partitions: Set<KafkaTopicPartition>) {
        fields.withLock { $0.newlyAssigned.formUnion(partitions) }
    }

    public func setRedisError(_ error: String?) { fields.withLock { $0.lastRedisError = error } }

    public func setWaiting(_ what: String?) { fields.withLock { $0.waitingFor = what } }

    /// Reasons the worker is not ready yet; empty when ready.
    public var notReadyReasons: [String] {
        fields.withLock { f in
            var reasons: [String] = []
            if let waiting = f.waitingFor { reasons.append(waiting) }
            if !f.clock.canFire { reasons.append(f.clock.detail) }
            if !f.ownershipAcquired { reasons.append("shard ownership not acquired yet") }
            if !f.consumerAssigned { reasons.append("no input partitions assigned yet") }
            if let error = f.lastRedisError { reasons.append("redis: \(error)") }
            return reasons
        } + (replicaWait.map { ["redis: \($0)"] } ?? [])
    }
}
