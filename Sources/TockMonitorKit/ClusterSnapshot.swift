/// What `/v1/cluster` serves and `tock stats` prints: the monitor's last view of the cluster.
public struct ClusterSnapshot: Codable, Sendable, Equatable {
    public struct Worker: Codable, Sendable, Equatable {
        public var id: String
        public var lastHeartbeatMillis: Int64
        public var heartbeatAgeMillis: Int64
        public var live: Bool
        public var shards: [Int]
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
