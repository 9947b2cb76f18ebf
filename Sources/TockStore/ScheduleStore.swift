import Logging
import TockCore
import TockRedis

/// Tock's durable state in Redis: per shard, the messages, a due index, the set claimed into
/// wheels, the delivery leases, attempt counts, tombstones and per-partition watermarks. Every
/// key of a shard carries the hash tag `{<prefix>:<shard>}` (see the README's key layout); every
/// mutation is one Lua script call per shard, and calls for many shards go in one pipeline.
public final class ScheduleStore: Sendable {
    public let client: RedisClient
    public let keyPrefix: String
    public let shardMap: ShardMap
    public let retentionMillis: Int64
    let scripts: StoreScripts
    let logger: Logger

    public init(client: RedisClient, keyPrefix: String, shardCount: Int, retentionMillis: Int64, logger: Logger = Logger(label: "tock.store")) throws {
        self.client = client
        self.keyPrefix = keyPrefix
        self.shardMap = ShardMap(shardCount: shardCount)
        self.retentionMillis = retentionMillis
        self.scripts = try StoreScripts.load()
        self.logger = logger
    }

    /// The store as `configuration` describes it (`store.keyPrefix`, `store.shards`, `dedup.retention`).
    public convenience init(client: RedisClient, configuration: TockConfiguration, logger: Logger = Logger(label: "tock.store")) throws {
        try self.init(client: client, keyPrefix: configuration.store.keyPrefix, shardCount: configuration.store.shards,
                      retentionMillis: configuration.dedup.retentionMillis, logger: logger)
    }

    var tombWindowMillis: Int64 { Tombstone.windowMillis(retentionMillis: retentionMillis) }

    public func tag(_ shard: Int) -> String { "{\(keyPrefix):\(shard)}" }
    public var metaKey: String { "\(keyPrefix):meta" }

    /// Records the shard count on first start; refuses a different one later.
    public func verifyShardCount() async throws(StoreError) {
        do {
            _ = try await client.send(RawRedisCommand(["HSETNX", RedisArgument(metaKey), "shards", RedisArgument(shardMap.shardCount)]), idempotent: true)
            let stored = try await client.send(RawRedisCommand(["HGET", RedisArgument(metaKey), "shards"]), idempotent: true)
            guard let text = stored.string, let count = Int(text) else { throw StoreError.corrupt("\(metaKey) has no shard count") }
            if count != shardMap.shardCount { throw StoreError.shardCountMismatch(configured: shardMap.shardCount, stored: count) }
        } catch let error as StoreError {
            throw error
        } catch let error as RedisError {
            throw .redis(error)
        } catch {
            throw .corrupt("\(error)")
        }
    }

    // MARK: - Ingest

    /// Stores batches of many shards in one pipeline. Entries of one partition must be in offset
    /// order within a shard's batch. `claimAs`, when given, lets entries of shards it owns that are
    /// due by `claimHorizon` go straight to the claimed set (outcome `.claimed`).
    public func store(
        _ batches: [Int: [StoreEntry]],
        nowMillis: Int64,
        claimAs ownerships: [Int: ShardOwnership] = [:],
        claimHorizon: Int64 = 0
    ) async throws(StoreError) -> [Int: [StoreOutcome]] {
        let shards = batches.keys.sorted()
        let calls = shards.map { shard -> RedisScriptCall in
            let entries = batches[shard]!
            var highest: [String: Int64] = [:]
            for entry in entries { highest[entry.topicPartition] = max(highest[entry.topicPartition] ?? -1, entry.offset) }
            var args: [RedisArgument] = []
            args.reserveCapacity(7 + 2 * highest.count + 8 * entries.count)
            let owner = ownerships[shard]
            args.append(RedisArgument(nowMillis))
            args.append(RedisArgument(owner?.worker ?? ""))
            args.append(RedisArgument(owner?.epoch ?? 0))
            args.append(RedisArgument(claimHorizon))
            args.append(RedisArgument(retentionMillis))
            args.append(RedisArgument(tombWindowMillis))
            args.append(RedisArgument(highest.count))
            for (tp, offset) in highest {
                args.append(RedisArgument(tp))
                args.append(RedisArgument(offset))
            }
            for entry in entries {
                args.append(RedisArgument(entry.operation.rawValue))
                args.append(RedisArgument(entry.topicPartition))
                args.append(RedisArgument(entry.offset))
                args.append(RedisArgument(entry.id))
                args.append(RedisArgument(entry.tombstone.map { String($0.bucket) } ?? ""))
                args.append(RedisArgument(entry.tombstone.map { String($0.fingerprint) } ?? ""))
                args.append(RedisArgument(entry.dueMillis))
                args.append(RedisArgument(entry.blob))
            }
            return RedisScriptCall(scripts.store, keys: [RedisArgument(tag(shard))], args: args)
        }
        // Idempotent: a retried batch finds its offsets under the watermark.
        let results = try await pipeline(calls)
        var outcomes: [Int: [StoreOutcome]] = [:]
        for (shard, result) in zip(shards, results) {
            let value = try unwrap(result, shard: shard)
            guard case .array(let items) = value, items.count == batches[shard]!.count else {
                throw .corrupt("store returned \(value) for \(batches[shard]!.count) entries")
            }
            outcomes[shard] = try items.map { item throws(StoreError) in
                guard let text = item.string, let outcome = StoreOutcome(rawValue: text) else { throw .corrupt("store outcome \(item)") }
                return outcome
            }
        }
        return outcomes
    }

    // MARK: - Claim and fire

    /// Claims, per owned shard, up to `limit` messages due by `horizon`. A fenced shard yields
    /// `.failure(.fenced)`; the rest succeed independently.
    /// `token` and `ownGraceMillis`: the caller's own expired locks are reaped only that long after
    /// their lease (it is alive, so they are still being delivered).
    public func claim(
        _ ownerships: [Int: ShardOwnership],
        nowMillis: Int64,
        horizon: Int64,
        limit: Int,
        token: String = "",
        ownGraceMillis: Int64 = 0
    ) async throws(StoreError) -> [Int: Result<[(id: String, dueMillis: Int64)], StoreError>] {
        let shards = ownerships.keys.sorted()
        let calls = shards.map { shard in
            let owner = ownerships[shard]!
            return RedisScriptCall(scripts.claim, keys: [RedisArgument(tag(shard))], args: [
                RedisArgument(owner.worker), RedisArgument(owner.epoch), RedisArgument(nowMillis),
                RedisArgument(horizon), RedisArgument(limit), RedisArgument(token), RedisArgument(ownGraceMillis),
            ])
        }
        let results = try await pipeline(calls)
        var claimed: [Int: Result<[(id: String, dueMillis: Int64)], StoreError>] = [:]
        for (shard, result) in zip(shards, results) {
            claimed[shard] = Result { () throws(StoreError) in try pairs(try unwrap(result, shard: shard)) }
        }
        return claimed
    }

    /// Up to `limit` entries per shard of the claimed sets of `shards` whose fire time is before
    /// `dueBefore`. The owner's wheel locks every claimed entry `delivery.lockAhead` before it is
    /// due, so an entry still claimed well after that is one no wheel holds: a claim whose reply
    /// was lost (a store, claim or retry call that Redis applied but whose answer never came).
    public func overdueClaims(_ shards: [Int], dueBefore: Int64, limit: Int) async throws(StoreError) -> [Int: [(id: String, dueMillis: Int64)]] {
        let shards = shards.sorted()
        guard !shards.isEmpty else { return [:] }
        let commands = shards.map { shard in
            RawRedisCommand(["ZRANGEBYSCORE", RedisArgument("\(tag(shard)):claimed"), "-inf", RedisArgument("(\(dueBefore)"),
                             "WITHSCORES", "LIMIT", "0", RedisArgument(limit)]) as any RedisCommand
        }
        let results: [Result<RedisValue, RedisError>]
        do { results = try await client.pipeline(commands, idempotent: true) } catch { throw .redis(error) }
        var overdue: [Int: [(id: String, dueMillis: Int64)]] = [:]
        for (shard, result) in zip(shards, results) {
            let entries = try pairs(try unwrap(result, shard: shard))
            if !entries.isEmpty { overdue[shard] = entries }
        }
        return overdue
    }

    /// Moves up to `limit` of the shard's claimed entries back to the due index; returns how many.
    public func release(shard: Int, as owner: ShardOwnership, limit: Int = 10_000) async throws(StoreError) -> Int {
        let value = try await evalSHA(scripts.release, shard: shard, args: [
            RedisArgument(owner.worker), RedisArgument(owner.epoch), RedisArgument(limit),
        ])
        guard case .integer(let moved) = value else { throw .corrupt("release returned \(value)") }
        return Int(moved)
    }

    /// Moves every claimed entry of the shard back to the due index.
    public func releaseAll(shard: Int, as owner: ShardOwnership) async throws(StoreError) -> Int {
        var total = 0
        while true {
            let moved = try await release(shard: shard, as: owner)
            total += moved
            if moved == 0 { return total }
        }
    }

    /// Takes the delivery lock of fired entries, per shard in one pipeline. Entries no longer
    /// claimed at that due time, or due after `dueBy`, are left out of the result. The worker
    /// passes its clock plus `delivery.lockAhead` as `dueBy`, and publishes at the due time.
    public func begin(
        _ entries: [Int: [(id: String, fireMillis: Int64)]],
        as ownerships: [Int: ShardOwnership],
        token: String,
        dueBy: Int64,
        leaseUntil: Int64
    ) async throws(StoreError) -> [Int: Result<[LockedDelivery], StoreError>] {
        let shards = entries.keys.sorted().filter { ownerships[$0] != nil }
        let calls = shards.map { shard in
            let owner = ownerships[shard]!
            var args: [RedisArgument] = [
                RedisArgument(owner.worker), RedisArgument(owner.epoch), RedisArgument(token),
                RedisArgument(dueBy), RedisArgument(leaseUntil),
            ]
            for entry in entries[shard]! {
                args.append(RedisArgument(entry.id))
                args.append(RedisArgument(entry.fireMillis))
            }
            return RedisScriptCall(scripts.begin, keys: [RedisArgument(tag(shard))], args: args)
        }
        let results = try await pipeline(calls, idempotent: false)
        var locked: [Int: Result<[LockedDelivery], StoreError>] = [:]
        for (shard, result) in zip(shards, results) {
            let fireTimes = Dictionary(entries[shard]!.map { ($0.id, $0.fireMillis) }, uniquingKeysWith: { a, _ in a })
            locked[shard] = Result { () throws(StoreError) in
                guard case .array(let items) = try unwrap(result, shard: shard), items.count % 3 == 0 else {
                    throw .corrupt("begin reply")
                }
                var deliveries: [LockedDelivery] = []
                deliveries.reserveCapacity(items.count / 3)
                for index in stride(from: 0, to: items.count, by: 3) {
                    guard let id = items[index].string, case .integer(let attempt) = items[index + 1],
                          case .bulkString(let blob) = items[index + 2] else { throw .corrupt("begin entry") }
                    let message: ScheduledMessage
                    do { message = try MessageCodec.decode(blob, id: id) } catch { throw .corrupt("message \(id): \(error)") }
                    deliveries.append(LockedDelivery(shard: shard, fireMillis: fireTimes[id] ?? message.dueMillis, attempt: Int(attempt), message: message))
                }
                return deliveries
            }
        }
        return locked
    }

    /// Records deliveries as done (published or dead-lettered). Returns, per shard, one flag per
    /// entry: false when the lock was no longer the caller's.
    public func complete(
        _ entries: [Int: [ScheduledMessage]],
        token: String,
        nowMillis: Int64
    ) async throws(StoreError) -> [Int: [Bool]] {
        let shards = entries.keys.sorted()
        let calls = shards.map { shard in
            var args: [RedisArgument] = [
                RedisArgument(token), RedisArgument(nowMillis), RedisArgument(retentionMillis), RedisArgument(tombWindowMillis),
            ]
            for message in entries[shard]! {
                let tombstone = message.idWasGiven ? Tombstone(id: message.id) : nil
                args.append(RedisArgument(message.id))
                args.append(RedisArgument(tombstone.map { String($0.bucket) } ?? ""))
                args.append(RedisArgument(tombstone.map { String($0.fingerprint) } ?? ""))
            }
            return RedisScriptCall(scripts.complete, keys: [RedisArgument(tag(shard))], args: args)
        }
        let results = try await pipeline(calls)
        var done: [Int: [Bool]] = [:]
        for (shard, result) in zip(shards, results) {
            guard case .array(let items) = try unwrap(result, shard: shard) else { throw .corrupt("complete reply") }
            done[shard] = items.map { $0 == .integer(1) }
        }
        return done
    }

    /// Schedules failed deliveries again at their next attempt time. Returns, per shard, one
    /// status per entry: "claimed" (the caller must put it in its wheel), "due" or "lost".
    public func retry(
        _ entries: [Int: [(id: String, nextMillis: Int64)]],
        as ownerships: [Int: ShardOwnership],
        token: String,
        horizon: Int64
    ) async throws(StoreError) -> [Int: [String]] {
        let shards = entries.keys.sorted()
        let calls = shards.map { shard in
            let owner = ownerships[shard]
            var args: [RedisArgument] = [
                RedisArgument(owner?.worker ?? ""), RedisArgument(owner?.epoch ?? -1), RedisArgument(token), RedisArgument(horizon),
            ]
            for entry in entries[shard]! {
                args.append(RedisArgument(entry.id))
                args.append(RedisArgument(entry.nextMillis))
            }
            return RedisScriptCall(scripts.retry, keys: [RedisArgument(tag(shard))], args: args)
        }
        let results = try await pipeline(calls)
        var statuses: [Int: [String]] = [:]
        for (shard, result) in zip(shards, results) {
            guard case .array(let items) = try unwrap(result, shard: shard) else { throw .corrupt("retry reply") }
            statuses[shard] = items.map { $0.string ?? "" }
        }
        return statuses
    }

    /// Extends the caller's delivery locks on `ids` (per shard) to `leaseUntil`; returns how many
    /// were still the caller's.
    public func renew(_ ids: [Int: [String]], token: String, leaseUntil: Int64) async throws(StoreError) -> Int {
        let shards = ids.keys.sorted().filter { !(ids[$0]?.isEmpty ?? true) }
        let calls = shards.map { shard in
            RedisScriptCall(scripts.renew, keys: [RedisArgument(tag(shard))],
                            args: [RedisArgument(token), RedisArgument(leaseUntil)] + ids[shard]!.map { RedisArgument($0) })
        }
        var renewed = 0
        for (shard, result) in zip(shards, try await pipeline(calls)) {
            if case .integer(let count) = try unwrap(result, shard: shard) { renewed += Int(count) }
        }
        return renewed
    }

    // MARK: - Ownership

    /// Makes `worker` the owner of `shards` at new epochs (standalone mode).
    public func takeOwnership(of shards: [Int], worker: String) async throws(StoreError) -> [Int: ShardOwnership] {
        let calls = shards.map { RedisScriptCall(scripts.own, keys: [RedisArgument(tag($0))], args: [RedisArgument(worker)]) }
        let results = try await pipeline(calls, idempotent: false)
        var owned: [Int: ShardOwnership] = [:]
        for (shard, result) in zip(shards, results) {
            guard case .integer(let epoch) = try unwrap(result, shard: shard) else { throw .corrupt("own reply") }
            owned[shard] = ShardOwnership(worker: worker, epoch: epoch)
        }
        return owned
    }

    /// Takes or renews a lease; returns nil when the caller holds it, else who holds it and for how long.
    public func acquireLease(_ name: String, holder: String, ttlMillis: Int64) async throws(StoreError) -> LeaseHolder? {
        let value = try await evalSHA(scripts.lease, key: "\(keyPrefix):\(name)", args: [RedisArgument(holder), RedisArgument(ttlMillis)])
        switch value {
        case .array(let items) where items.count == 2:
            guard let current = items[0].string, case .integer(let remaining) = items[1] else { throw .corrupt("lease reply \(value)") }
            return LeaseHolder(holder: current, remainingMillis: remaining)
        default:
            guard value.string == "" else { throw .corrupt("lease reply \(value)") }
            return nil
        }
    }

    public func releaseLease(_ name: String, holder: String) async throws(StoreError) {
        _ = try await evalSHA(scripts.unlease, key: "\(keyPrefix):\(name)", args: [RedisArgument(holder)])
    }

    // MARK: - Operator calls

    public func status(of id: String, nowMillis: Int64, idWasGiven: Bool = true) async throws(StoreError) -> MessageStatus {
        let shard = shardMap.shard(of: id)
        let tombstone = Tombstone(id: id)
        let value = try await evalSHA(scripts.status, shard: shard, args: [
            RedisArgument(id), RedisArgument(nowMillis), RedisArgument(retentionMillis), RedisArgument(tombWindowMillis),
            RedisArgument(String(tombstone.bucket)), RedisArgument(idWasGiven ? String(tombstone.fingerprint) : ""),
        ])
        guard case .array(let items) = value, items.count == 4, let stateText = items[0].string,
              let state = MessageStatus.State(rawValue: stateText) else { throw .corrupt("status reply \(value)") }
        let score = items[1].string.flatMap { Double($0) }.map { Int64($0) }
        var attempts = 0
        if case .integer(let count) = items[2] { attempts = Int(count) }
        var message: ScheduledMessage?
        if case .bulkString(let blob) = items[3] { message = try? MessageCodec.decode(blob, id: id) }
        return MessageStatus(id: id, shard: shard, state: state, scoreMillis: score, attempts: attempts, message: message)
    }

    /// Forgets every shard's watermarks of `topic` (or of one of its partitions); returns how
    /// many were removed.
    public func resetWatermarks(topic: String, partition: Int32? = nil) async throws(StoreError) -> Int {
        let calls = (0..<shardMap.shardCount).map {
            RedisScriptCall(scripts.resetWatermarks, keys: [RedisArgument(tag($0))],
                            args: [RedisArgument(topic), RedisArgument(partition.map { String($0) } ?? "")])
        }
        var removed = 0
        for (shard, result) in zip(0..., try await pipeline(calls)) {
            if case .integer(let count) = try unwrap(result, shard: shard) { removed += Int(count) }
        }
        return removed
    }

    /// The highest offset of `topic/partition` stored in any shard, or -1.
    public func highestStoredOffset(topic: String, partition: Int32) async throws(StoreError) -> Int64 {
        let field = RedisArgument("\(topic)/\(partition)")
        let commands = (0..<shardMap.shardCount).map { RawRedisCommand(["HGET", RedisArgument("\(tag($0)):wm"), field]) as any RedisCommand }
        let results: [Result<RedisValue, RedisError>]
        do { results = try await client.pipeline(commands, idempotent: true) } catch { throw .redis(error) }
        var highest: Int64 = -1
        for result in results {
            if case .success(let value) = result, let text = value.string, let offset = Int64(text) { highest = max(highest, offset) }
        }
        return highest
    }

    // MARK: - Plumbing

    func pipeline(_ calls: [RedisScriptCall], idempotent: Bool = true) async throws(StoreError) -> [Result<RedisValue, RedisError>] {
        if calls.isEmpty { return [] }
        do { return try await client.pipelineEvalSHA(calls, idempotent: idempotent) } catch { throw .redis(error) }
    }

    func evalSHA(_ script: RedisScript, shard: Int, args: [RedisArgument]) async throws(StoreError) -> RedisValue {
        try await evalSHA(script, key: tag(shard), args: args, shard: shard)
    }

    func evalSHA(_ script: RedisScript, key: String, args: [RedisArgument], shard: Int = -1) async throws(StoreError) -> RedisValue {
        let result: Result<RedisValue, RedisError>
        do { result = try await client.pipelineEvalSHA([RedisScriptCall(script, keys: [RedisArgument(key)], args: args)], idempotent: true)[0] } catch {
            throw .redis(error)
        }
        return try unwrap(result, shard: shard)
    }

    func unwrap(_ result: Result<RedisValue, RedisError>, shard: Int) throws(StoreError) -> RedisValue {
        switch result {
        case .success(.error(let message)), .failure(.server(let message)):
            if message.hasPrefix("FENCED") { throw .fenced(shard: shard, detail: message) }
            throw .redis(.server(message))
        case .success(let value): return value
        case .failure(let error): throw .redis(error)
        }
    }

    func pairs(_ value: RedisValue) throws(StoreError) -> [(id: String, dueMillis: Int64)] {
        guard case .array(let items) = value, items.count % 2 == 0 else { throw .corrupt("expected id/score pairs, got \(value)") }
        var result: [(id: String, dueMillis: Int64)] = []
        result.reserveCapacity(items.count / 2)
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let id = items[index].string, let scoreText = items[index + 1].string, let score = Double(scoreText) else {
                throw .corrupt("id/score pair")
            }
            result.append((id, Int64(score)))
        }
        return result
    }
}
