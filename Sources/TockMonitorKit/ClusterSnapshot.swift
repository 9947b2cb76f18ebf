import TockStore

/// What `/v1/cluster` serves and `tock stats` prints: the monitor's last view of the cluster.
public struct ClusterSnapshot: Codable, Sendable, Equatable {
    public struct Worker: Codable, Sendable, Equatable {
        public var id: String
        public var lastHeartbeatMillis: Int64
        public var heartbeatAgeMillis: Int64
        public var live: Bool
        public var shards: [Int]
        /// Live, but firing nothing: its clock cannot be trusted (SPEC guarantee 5); it gets no shard.
        public var holding: Bool?
    }

    public struct Shard: Codable, Sendable, Equatable {
        public var shard: Int
        public var owner: String?
        public var epoch: Int64?
    }

    public var monitor: String
    public var leading: Bool
    public var leader: String?
    public var takenAtMillis: Int64
    public var heartbeatTimeoutMillis: Int64
    public var workers: [Worker]
    public var shards: [Shard]
    public var reassignments: Int
    /// The due time of the oldest message waiting in a due index past its due time, if any.
    public var oldestOverdueMillis: Int64?

    public static func empty(monitor: String) -> ClusterSnapshot {
        ClusterSnapshot(
            monitor: monitor, leading: false, leader: nil, takenAtMillis: 0, heartbeatTimeoutMillis: 0,
            workers: [], shards: [], reassignments: 0, oldestOverdueMillis: nil)
    }
}

extension ClusterSnapshot {
    /// The workers whose last heartbeat is within the timeout.
    static func live(_ heartbeats: [String: Int64], timeoutMillis: Int64, nowMillis: Int64) -> Set<String> {
        Set(heartbeats.filter { nowMillis - $0.value <= timeoutMillis }.keys)
    }

    /// Each worker with a heartbeat, its age, whether it is live (and holding) and the shards it owns.
    static func workers(
        heartbeats: [String: Int64], owners: [Int: ShardOwnership], live: Set<String>, holding: Set<String>, nowMillis: Int64
    ) -> [Worker] {
        var perWorker: [String: [Int]] = [:]
        for (shard, owner) in owners { perWorker[owner.worker, default: []].append(shard) }
        return heartbeats.keys.sorted().map { id in
            Worker(
                id: id, lastHeartbeatMillis: heartbeats[id]!, heartbeatAgeMillis: nowMillis - heartbeats[id]!, live: live.contains(id),
                shards: (perWorker[id] ?? []).sorted(), holding: holding.contains(id))
        }
    }
}
