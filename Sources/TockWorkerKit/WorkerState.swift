import Synchronization
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
        /// Input partitions assigned since ingest last looked: which incarnation each is gets
        /// checked again (`InputPartitions`).
        var newlyAssigned: Set<KafkaTopicPartition> = []
    }

    private let fields = Mutex(Fields())
    public let workerID: String
    /// Distinguishes this process from an earlier one under the same worker id: delivery locks
    /// carry it, so a restarted worker never completes what its previous life locked.
    public let token: String
    /// Recent firing, rejections and dead letters: the heartbeat's summary for the console.
    public let activity = WorkerActivity()

    public init(workerID: String, token: String) {
        self.workerID = workerID
        self.token = token
    }

    public var ownerships: [Int: ShardOwnership] { fields.withLock { $0.ownerships } }

    public func ownership(of shard: Int) -> ShardOwnership? { fields.withLock { $0.ownerships[shard] } }

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

    public func setRedisError(_ error: String?) { fields.withLock { $0.lastRedisError = error } }

    public func setWaiting(_ what: String?) { fields.withLock { $0.waitingFor = what } }

    /// Reasons the worker is not ready yet; empty when ready.
    public var notReadyReasons: [String] {
        fields.withLock { f in
            var reasons: [String] = []
            if let waiting = f.waitingFor { reasons.append(waiting) }
            if !f.ownershipAcquired { reasons.append("shard ownership not acquired yet") }
            if !f.consumerAssigned { reasons.append("no input partitions assigned yet") }
            if let error = f.lastRedisError { reasons.append("redis: \(error)") }
            return reasons
        }
    }
}
