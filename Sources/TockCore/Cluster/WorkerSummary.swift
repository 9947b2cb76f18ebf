/// What a worker tells the monitors with each heartbeat, for the console: its recent firing and
/// what it rejected and dead-lettered since it started.
public struct WorkerSummary: Codable, Sendable, Equatable {
    /// Messages published (first attempts and retries) in the last minute, per second.
    public var firedPerSecond: Double
    /// Fire lateness (record timestamp − due time) of first attempts in the last minute.
    public var latenessP50Millis: Int64?
    public var latenessP99Millis: Int64?
    public var firedTotal: Int
    /// Rejections by `tock-error` code, and dead letters by code, since the worker started.
    public var rejected: [String: Int]
    public var deadLetters: [String: Int]
    /// Shards whose writes wait for replicas (`store.replicaAcks`); nil when none does.
    public var replicaWait: ReplicaWait?
    /// How the worker's clock stands against the reference (SPEC guarantee 5).
    public var clock: ClockStatus?

    public init(
        firedPerSecond: Double = 0, latenessP50Millis: Int64? = nil, latenessP99Millis: Int64? = nil, firedTotal: Int = 0,
        rejected: [String: Int] = [:], deadLetters: [String: Int] = [:], replicaWait: ReplicaWait? = nil
    ) {
        self.firedPerSecond = firedPerSecond
        self.latenessP50Millis = latenessP50Millis
        self.latenessP99Millis = latenessP99Millis
        self.firedTotal = firedTotal
        self.rejected = rejected
        self.deadLetters = deadLetters
        self.replicaWait = replicaWait
    }
}

/// The last minute of firing, in one-second slots, each with a histogram of lateness: enough for
/// a rate and approximate quantiles at a fixed, small cost per message. Pure: the caller passes
/// the time.
public struct FireWindow: Sendable {
    /// Upper bounds (ms) of the lateness buckets; a quantile reads as its bucket's bound.
    public static let bounds: [Int64] = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, .max]
    static let seconds = 60

    private struct Slot {
        var second: Int64 = .min
        var fired = 0
        var buckets = [Int](repeating: 0, count: FireWindow.bounds.count)
    }

    private var slots = [Slot](repeating: Slot(), count: seconds)
    public private(set) var firedTotal = 0

    public init() {}

    /// One message published at `nowMillis`; `latenessMillis` for a first attempt.
    public mutating func record(nowMillis: Int64, latenessMillis: Int64?) {
        let second = nowMillis.floorDivided(by: 1_000)
        let index = Int(second.floorModulo(Int64(Self.seconds)))
        if slots[index].second != second { slots[index] = Slot(second: second) }
        slots[index].fired += 1
        firedTotal += 1
        if let latenessMillis {
            let bucket = Self.bounds.firstIndex { latenessMillis <= $0 } ?? Self.bounds.count - 1
            slots[index].buckets[bucket] += 1
        }
    }

    /// The rate and lateness quantiles over the minute before `nowMillis`.
    public func summary(nowMillis: Int64) -> (perSecond: Double, p50: Int64?, p99: Int64?) {
        let current = nowMillis.floorDivided(by: 1_000)
        var fired = 0
        var buckets = [Int](repeating: 0, count: Self.bounds.count)
        for slot in slots where slot.second > current - Int64(Self.seconds) && slot.second <= current {
            fired += slot.fired
            for (index, count) in slot.buckets.enumerated() { buckets[index] += count }
        }
        let total = buckets.reduce(0, +)
        func quantile(_ q: Double) -> Int64? {
            guard total > 0 else { return nil }
            let rank = Int((Double(total) * q).rounded(.up))
            var seen = 0
            for (index, count) in buckets.enumerated() {
                seen += count
                if seen >= rank { return Self.bounds[index] }
            }
            return Self.bounds.last
        }
        return (Double(fired) / Double(Self.seconds), quantile(0.5), quantile(0.99))
    }
}

/// Shards of a worker whose durable writes fewer replicas confirmed than `store.replicaAcks`
/// asks (Redis `WAIT`): they wait for a replica to come back (`ReplicaWaits`).
public struct ReplicaWait: Codable, Sendable, Equatable, CustomStringConvertible {
    public var shards: [Int]
    /// The fewest replicas that confirmed a write of these shards lately, and how many were asked.
    public var acked: Int
    public var wanted: Int
    /// How long the longest waiting of them has waited.
    public var waitingMillis: Int64

    public init(shards: [Int], acked: Int, wanted: Int, waitingMillis: Int64) {
        self.shards = shards
        self.acked = acked
        self.wanted = wanted
        self.waitingMillis = waitingMillis
    }

    public var description: String {
        "shard\(shards.count == 1 ? "" : "s") \(shards.map(String.init).joined(separator: ", ")) wait\(shards.count == 1 ? "s" : "") for replicas: "
            + "\(acked) of the \(wanted) store.replicaAcks asks confirmed their writes (Redis WAIT), for \(waitingMillis / 1_000).\(waitingMillis % 1_000 / 100) s; "
            + "replicaAcks \(wanted) needs \(wanted + 1) replicas per master to ride out the loss of one"
    }
}
