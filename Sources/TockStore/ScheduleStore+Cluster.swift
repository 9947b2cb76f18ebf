import TockCore
import TockRedis

/// The cluster's keys, under the hash tag `{<prefix>}` (one slot): `workers` (sorted set of
/// worker → last heartbeat ms), `assigned:<worker>` (hash shard → epoch: the workers' view, what
/// heartbeats return), `monitor:leader` (the leading monitor's lease) and `monitor:token` (its
/// fencing token). The owner of record of each shard stays in the shard's own `owner` hash.
extension ScheduleStore {
    public var clusterTag: String { "{\(keyPrefix)}" }

    /// Records a heartbeat and returns the worker's assignment (shard → epoch); `leaving`
    /// deregisters instead, so the monitor reassigns the worker's shards at once.
    public func heartbeat(worker: String, nowMillis: Int64, leaving: Bool = false) async throws(StoreError) -> [Int: Int64] {
        let value = try await evalSHA(scripts.heartbeat, key: clusterTag, args: [
            RedisArgument(worker), RedisArgument(nowMillis), RedisArgument(leaving ? "1" : "0"),
        ])
        guard case .array(let items) = value, items.count % 2 == 0 else { throw .corrupt("heartbeat reply \(value)") }
        var assignment: [Int: Int64] = [:]
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let shard = items[index].string.flatMap({ Int($0) }), let epoch = items[index + 1].string.flatMap({ Int64($0) }) else {
                throw .corrupt("heartbeat entry")
            }
            assignment[shard] = epoch
        }
        return assignment
    }

    public enum Leadership: Sendable, Equatable {
        case leading(token: String)
        case following(leader: String)
    }

    /// Takes or renews monitor leadership.
    public func lead(monitor: String, ttlMillis: Int64) async throws(StoreError) -> Leadership {
        let value = try await evalSHA(scripts.lead, key: clusterTag, args: [RedisArgument(monitor), RedisArgument(ttlMillis)])
        guard case .array(let items) = value, items.count == 2, let other = items[1].string else { throw .corrupt("lead reply \(value)") }
        return items[0] == .integer(1) ? .leading(token: other) : .following(leader: other)
    }

    /// Gives leadership up (a monitor stopping gracefully), so the standby takes over at once.
    public func resign(monitor: String) async throws(StoreError) {
        _ = try await evalSHA(scripts.unlease, key: "\(clusterTag):monitor:leader", args: [RedisArgument(monitor)])
    }

    /// Worker → last heartbeat (ms).
    public func workers() async throws(StoreError) -> [String: Int64] {
        let value: RedisValue
        do { value = try await client.send(RawRedisCommand(["ZRANGE", RedisArgument("\(clusterTag):workers"), "0", "-1", "WITHSCORES"]), idempotent: true) } catch {
            throw .redis(error)
        }
        guard case .array(let items) = value else { throw .corrupt("workers reply") }
        var result: [String: Int64] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let worker = items[index].string, let score = items[index + 1].string.flatMap({ Double($0) }) { result[worker] = Int64(score) }
        }
        return result
    }

    /// Each shard's owner of record.
    public func owners() async throws(StoreError) -> [Int: ShardOwnership] {
        let commands = (0..<shardMap.shardCount).map {
            RawRedisCommand(["HMGET", RedisArgument("\(tag($0)):owner"), "worker", "epoch"]) as any RedisCommand
        }
        let results: [Result<RedisValue, RedisError>]
        do { results = try await client.pipeline(commands, idempotent: true) } catch { throw .redis(error) }
        var owners: [Int: ShardOwnership] = [:]
        for (shard, result) in results.enumerated() {
            guard case .success(.array(let fields)) = result, fields.count == 2 else { throw .corrupt("owner of shard \(shard)") }
            if let worker = fields[0].string, let epoch = fields[1].string.flatMap({ Int64($0) }) {
                owners[shard] = ShardOwnership(worker: worker, epoch: epoch)
            }
        }
        return owners
    }

    /// Makes `worker` the owner of each shard at a new epoch (the monitor's assignment).
    public func assign(_ assignment: [Int: String]) async throws(StoreError) -> [Int: ShardOwnership] {
        let shards = assignment.keys.sorted()
        let calls = shards.map { RedisScriptCall(scripts.own, keys: [RedisArgument(tag($0))], args: [RedisArgument(assignment[$0]!)]) }
        var owned: [Int: ShardOwnership] = [:]
        for (shard, result) in zip(shards, try await pipeline(calls, idempotent: false)) {
            guard case .integer(let epoch) = try unwrap(result, shard: shard) else { throw .corrupt("own reply") }
            owned[shard] = ShardOwnership(worker: assignment[shard]!, epoch: epoch)
        }
        return owned
    }

    /// Writes the workers' view of the assignment and forgets dead workers, fenced by `token`.
    public func publish(token: String, owners: [Int: ShardOwnership], workers: Set<String>, forget dead: [String]) async throws(StoreError) {
        var byWorker: [String: [(Int, Int64)]] = [:]
        for worker in workers { byWorker[worker] = [] }
        for (shard, owner) in owners where byWorker[owner.worker] != nil { byWorker[owner.worker]!.append((shard, owner.epoch)) }
        var args: [RedisArgument] = [RedisArgument(token), RedisArgument(byWorker.count)]
        for (worker, shards) in byWorker.sorted(by: { $0.key < $1.key }) {
            args.append(RedisArgument(worker))
            args.append(RedisArgument(shards.count))
            for (shard, epoch) in shards.sorted(by: { $0.0 < $1.0 }) {
                args.append(RedisArgument(shard))
                args.append(RedisArgument(epoch))
            }
        }
        for worker in dead { args.append(RedisArgument(worker)) }
        _ = try await evalSHA(scripts.publish, key: clusterTag, args: args)
    }

    /// The due time of the most overdue message still in a due index (not claimed by any wheel),
    /// or nil when none is overdue.
    public func oldestOverdue(nowMillis: Int64) async throws(StoreError) -> Int64? {
        let commands = (0..<shardMap.shardCount).map {
            RawRedisCommand(["ZRANGE", RedisArgument("\(tag($0)):due"), "0", "0", "WITHSCORES"]) as any RedisCommand
        }
        let results: [Result<RedisValue, RedisError>]
        do { results = try await client.pipeline(commands, idempotent: true) } catch { throw .redis(error) }
        var oldest: Int64?
        for result in results {
            if case .success(.array(let items)) = result, items.count == 2, let score = items[1].string.flatMap({ Double($0) }) {
                let due = Int64(score)
                if due <= nowMillis { oldest = min(oldest ?? due, due) }
            }
        }
        return oldest
    }
}
