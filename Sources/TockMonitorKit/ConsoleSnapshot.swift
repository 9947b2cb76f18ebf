import TockCore
import TockStore

/// What the console page shows (`/v1/console`): the cluster, each worker's summary, the queues'
/// due load, and rejections and dead letters by code summed over the live workers.
public struct ConsoleSnapshot: Codable, Sendable, Equatable {
    public struct Worker: Codable, Sendable, Equatable {
        public var id: String
        public var live: Bool
        public var shards: [Int]
        public var heartbeatAgeMillis: Int64
        /// Live, but firing nothing: its clock cannot be trusted (its summary's `clock` says why).
        public var holding: Bool?
        public var summary: WorkerSummary?
    }

    public var monitor: String
    public var leading: Bool
    public var leader: String?
    public var takenAtMillis: Int64
    public var workers: [Worker]
    public var pending: Int
    /// Of `pending`, those in the cold tier (their records in Kafka).
    public var cold: Int
    /// Due within a minute, 10 minutes, an hour and a day (overdue ones included).
    public var due: [String: Int]
    /// Due in each of the next 60 minutes.
    public var perMinute: [Int]
    public var oldestOverdueMillis: Int64?
    public var rejected: [String: Int]
    public var deadLetters: [String: Int]
    /// How long reading the due load from Redis took.
    public var dueLoadMillis: Int64
    /// How this monitor's clock stands against the reference (each worker's is in its summary).
    public var clock: ClockStatus?

    public static func empty(monitor: String) -> ConsoleSnapshot {
        ConsoleSnapshot(
            monitor: monitor, leading: false, leader: nil, takenAtMillis: 0, workers: [], pending: 0, cold: 0, due: [:], perMinute: [],
            oldestOverdueMillis: nil, rejected: [:], deadLetters: [:], dueLoadMillis: 0, clock: nil)
    }
}

// In an extension, so that the memberwise initializer stays.
extension ConsoleSnapshot {
    /// Builds the snapshot from the cluster view, the workers' summaries and the due load.
    public init(cluster: ClusterSnapshot, summaries: [String: WorkerSummary], load: DueLoad, dueLoadMillis: Int64, nowMillis: Int64) {
        monitor = cluster.monitor
        leading = cluster.leading
        leader = cluster.leader
        takenAtMillis = nowMillis
        workers = cluster.workers.map {
            Worker(
                id: $0.id, live: $0.live, shards: $0.shards, heartbeatAgeMillis: nowMillis - $0.lastHeartbeatMillis, holding: $0.holding,
                summary: summaries[$0.id])
        }
        pending = load.pending
        cold = load.cold
        due = ["1m": load.withinMinute, "10m": load.withinTenMinutes, "1h": load.withinHour, "1d": load.withinDay]
        perMinute = load.perMinute
        oldestOverdueMillis = cluster.oldestOverdueMillis
        var rejected: [String: Int] = [:]
        var dead: [String: Int] = [:]
        for worker in cluster.workers where worker.live {
            for (code, count) in summaries[worker.id]?.rejected ?? [:] { rejected[code, default: 0] += count }
            for (code, count) in summaries[worker.id]?.deadLetters ?? [:] { dead[code, default: 0] += count }
        }
        self.rejected = rejected
        deadLetters = dead
        self.dueLoadMillis = dueLoadMillis
        clock = nil
    }
}
