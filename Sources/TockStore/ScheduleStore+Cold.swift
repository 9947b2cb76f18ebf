import TockCore
import TockRedis

/// The cold tier's calls (docs/tiered-storage.md).
extension ScheduleStore {
    /// Moves `records` of `shard` into the hot store as its owner, and records `positions` (cold
    /// "topic/partition" → the next offset to read) in the same call. Durable: a move a failover
    /// lost would leave the message in neither tier's Redis.
    public func move(
        _ records: [ColdMove], shard: Int, as owner: ShardOwnership, positions: [String: Int64], nowMillis: Int64
    ) async throws(StoreError) -> [MoveOutcome] {
        let call = MoveCall(
            script: scripts.move, keys: keys, windows: windows, hourSlotMillis: coldHourSlotMillis, nowMillis: nowMillis, shard: shard,
            owner: owner, records: records, positions: positions)
        return try await runEach([call], shards: [shard], durable: true, touched: [[shard]])[0]
    }

    public func move(
        _ records: [ColdRecord], shard: Int, as owner: ShardOwnership, positions: [String: Int64], nowMillis: Int64
    ) async throws(StoreError) -> [MoveOutcome] {
        try await move(records.map { ColdMove($0) }, shard: shard, as: owner, positions: positions, nowMillis: nowMillis)
    }

    /// Records the cold rings' slot widths on first use and refuses others later: they decide
    /// which partition holds a slot and how the index counts its messages, so they are fixed for
    /// the life of the dataset and its cold topics.
    public func verifyColdSlots(hourMillis: Int64, dayMillis: Int64) async throws(StoreError) {
        let meta = RedisArgument(keys.meta)
        let results = try await read([
            RawRedisCommand(["HSETNX", meta, "coldHourSlot", RedisArgument(String(hourMillis))]),
            RawRedisCommand(["HSETNX", meta, "coldDaySlot", RedisArgument(String(dayMillis))]),
            RawRedisCommand(["HMGET", meta, "coldHourSlot", "coldDaySlot"]),
        ])
        guard case .array(let stored) = try unwrap(results[2], shard: -1), stored.count == 2 else { throw .corrupt("\(keys.meta) cold slots") }
        let hour = stored[0].string.flatMap { Int64($0) }
        let day = stored[1].string.flatMap { Int64($0) }
        if hour != hourMillis || day != dayMillis {
            throw .coldSlotsMismatch(
                configured: "\(hourMillis) ms and \(dayMillis) ms", stored: "\(hour.map(String.init) ?? "?") ms and \(day.map(String.init) ?? "?") ms"
            )
        }
    }

    /// Where the reads of cold partitions (`fields`: "topic/partition") kept by `shard` stopped.
    public func coldPositions(shard: Int, fields: [String]) async throws(StoreError) -> [String: Int64] {
        guard !fields.isEmpty else { return [:] }
        let reply = try unwrap(
            try await read([HMGET(RedisArgument(keys.coldPositions(shard)), fields: fields.map { RedisArgument($0) })])[0], shard: shard)
        guard case .array(let items) = reply, items.count == fields.count else { throw .corrupt("cold positions \(reply)") }
        var positions: [String: Int64] = [:]
        for (field, item) in zip(fields, items) {
            if let offset = item.string.flatMap({ Int64($0) }) { positions[field] = offset }
        }
        return positions
    }

    /// The cold messages, and per due hour slot their count: in all, and per shard.
    public func coldCounts() async throws(StoreError) -> ColdCounts {
        let shards = Array(0..<shardMap.shardCount)
        let results = try await read(shards.map { HGETALL(RedisArgument(keys.coldMeta($0))) as any RedisCommand })
        var counts = ColdCounts()
        for (shard, result) in zip(shards, results) {
            guard case .array(let items) = try unwrap(result, shard: shard) else { throw .corrupt("cold meta") }
            var index = 0
            while index + 1 < items.count {
                if let field = items[index].string, let count = items[index + 1].string.flatMap({ Int($0) }) {
                    if field == "n" {
                        counts.total += count
                    } else if field.hasPrefix("h"), let slot = Int64(field.dropFirst()), count > 0 {
                        counts.byHourSlot[slot, default: 0] += count
                        counts.byShard[shard, default: [:]][slot] = count
                    }
                }
                index += 2
            }
        }
        return counts
    }
}

/// What the cold index counts (`ScheduleStore.coldCounts`).
public struct ColdCounts: Sendable, Equatable {
    public var total = 0
    /// Due hour slot → cold messages due in it.
    public var byHourSlot: [Int64: Int] = [:]
    /// Shard → due hour slot → its cold messages due in it.
    public var byShard: [Int: [Int64: Int]] = [:]

    public init() {}
}
