import Foundation
import TockCore
import TockRedis

/// The cluster's side of the store: heartbeats, the reference clock, monitor leadership, the
/// shard assignment and the console's cluster-wide reads, on the keys under the hash tag
/// `{<prefix>}` (see `StoreKeys`); the owner of record of each shard stays in the shard's own
/// `owner` hash. It shares the schedule store's client, keys and scripts (`ScheduleStore.cluster`).
public struct ClusterStore: Sendable {
    let store: ScheduleStore
    var keys: StoreKeys { store.keys }
    var scripts: StoreScripts { store.scripts }
    var client: RedisClient { store.client }
    var shardMap: ShardMap { store.shardMap }

    func run<Call: StoreScriptCall>(_ call: Call, shard: Int = -1, idempotent: Bool = true) async throws(StoreError) -> Call.Reply {
        try await store.run(call, shard: shard, idempotent: idempotent)
    }

    func runEach<Call: StoreScriptCall>(_ calls: [Call], shards: [Int]? = nil, idempotent: Bool = true) async throws(StoreError) -> [Call.Reply] {
        try await store.runEach(calls, shards: shards, idempotent: idempotent)
    }

    func unwrap(_ result: Result<RedisValue, RedisError>, shard: Int) throws(StoreError) -> RedisValue { try store.unwrap(result, shard: shard) }

    /// Records a heartbeat, at Redis's time (with the worker's summary for the console), and returns
    /// the worker's assignment (shard → epoch); `leaving` deregisters instead, so the monitor
    /// reassigns the worker's shards at once. A `holding` worker is alive but fires nothing (its
    /// clock): the monitor gives it no shard.
    public func heartbeat(worker: String, leaving: Bool = false, holding: Bool = false, summary: WorkerSummary? = nil) async throws(StoreError)
        -> [Int:
        Int64]
    {
        let text = summary.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return try await run(
            HeartbeatCall(script: scripts.heartbeat, keys: keys, worker: worker, leaving: leaving, summary: text, holding: holding))
    }

    /// One reading of the cluster's reference clock (Redis `TIME` of the server holding the
    /// cluster's keys), with this process's wall and monotonic clocks around it.
    public func sampleReferenceClock() async throws(StoreError) -> ClockSample {
        let wall = SystemWallClock()
        let sentWall = wall.nowMicros()
        let sent = MonotonicClock.nowMicros()
        let reference = try await run(TimeCall(script: scripts.time, keys: keys))
        let received = MonotonicClock.nowMicros()
        return ClockSample(
            sentWallMicros: sentWall, receivedWallMicros: wall.nowMicros(), sentMonotonicMicros: sent, receivedMonotonicMicros: received,
            referenceMicros: reference)
    }

    /// The heartbeats and the holding workers, with Redis's time to judge them by.
    public func workerHeartbeats() async throws(StoreError) -> WorkerHeartbeats {
        try await run(WorkersCall(script: scripts.workers, keys: keys))
    }

    /// Each worker's last heartbeat summary (workers that never sent one, or sent a bad one, are left out).
    public func workerSummaries() async throws(StoreError) -> [String: WorkerSummary] {
        let summaries: [String: [UInt8]]
        do { summaries = try await client.send(HGETALL(RedisArgument(keys.workerSummaries)), idempotent: true) } catch { throw .redis(error) }
        let decoder = JSONDecoder()
        return summaries.compactMapValues { try? decoder.decode(WorkerSummary.self, from: Data($0)) }
    }

    /// What the console shows of the queues: messages stored, and those due by each of the
    /// next 60 minutes' ends and by a day from now (overdue ones included). One pipeline of
    /// `HLEN` and `ZCOUNT -inf <end>` per shard: O(log n) each, whatever the queue holds.
    public func dueLoad(nowMillis: Int64) async throws(StoreError) -> DueLoad {
        let ends = (1...60).map { nowMillis + Int64($0) * 60_000 } + [nowMillis + 86_400_000]
        var commands: [any RedisCommand] = []
        for shard in 0..<shardMap.shardCount {
            commands.append(HLEN(RedisArgument(keys.messages(shard))))
            for end in ends { commands.append(ZCOUNT(RedisArgument(keys.queue(shard)), atMost: end)) }
        }
        let results = try await store.read(commands)
        var load = DueLoad(pending: 0, dueBy: [Int](repeating: 0, count: ends.count))
        for (index, result) in results.enumerated() {
            guard case .integer(let count) = try unwrap(result, shard: index / (ends.count + 1)) else { throw .corrupt("due load reply") }
            let column = index % (ends.count + 1)
            if column == 0 { load.pending += Int(count) } else { load.dueBy[column - 1] += Int(count) }
        }
        // Cold messages, from the index's counts per hour slot (docs/tiered-storage.md).
        let cold = try await store.coldCounts()
        load.pending += cold.total
        load.cold = cold.total
        for (slot, count) in cold.byHourSlot {
            let slotEnd = (slot + 1) * store.coldHourSlotMillis
            for (index, end) in ends.enumerated() where slotEnd <= end { load.dueBy[index] += count }
        }
        return load
    }

    public enum Leadership: Sendable, Equatable {
        case leading(token: String)
        case following(leader: String)
    }

    /// Takes or renews monitor leadership.
    public func lead(monitor: String, ttlMillis: Int64) async throws(StoreError) -> Leadership {
        try await run(LeadCall(script: scripts.lead, keys: keys, monitor: monitor, ttlMillis: ttlMillis))
    }

    /// Gives leadership up (a monitor stopping gracefully), so the standby takes over at once.
    public func resign(monitor: String) async throws(StoreError) {
        try await run(UnleaseCall(script: scripts.unlease, key: keys.monitorLeader, holder: monitor))
    }

    /// Each shard's owner of record.
    public func owners() async throws(StoreError) -> [Int: ShardOwnership] {
        let commands = (0..<shardMap.shardCount).map {
            HMGET(RedisArgument(keys.owner($0)), fields: ["worker", "epoch"]) as any RedisCommand
        }
        let results = try await store.read(commands)
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
        let calls = shards.map { OwnCall(script: scripts.own, keys: keys, shard: $0, worker: assignment[$0]!) }
        var owned: [Int: ShardOwnership] = [:]
        for (shard, epoch) in zip(shards, try await runEach(calls, shards: shards, idempotent: false)) {
            owned[shard] = ShardOwnership(worker: assignment[shard]!, epoch: epoch)
        }
        return owned
    }

    /// Writes the workers' view of the assignment and forgets dead workers, fenced by `token`.
    public func publishAssignment(token: String, owners: [Int: ShardOwnership], workers: Set<String>, forget dead: [String]) async throws(StoreError)
    {
        var byWorker: [String: [(Int, Int64)]] = [:]
        for worker in workers { byWorker[worker] = [] }
        for (shard, owner) in owners where byWorker[owner.worker] != nil { byWorker[owner.worker]!.append((shard, owner.epoch)) }
        let assignment = byWorker.sorted(by: { $0.key < $1.key }).map { (worker: $0.key, shards: $0.value.sorted(by: { $0.0 < $1.0 })) }
        try await run(AssignCall(script: scripts.assign, keys: keys, token: token, assignment: assignment, forget: dead))
    }

    /// The fire time of the most overdue message still queued (not being delivered), or nil when
    /// none is overdue.
    public func oldestOverdue(nowMillis: Int64) async throws(StoreError) -> Int64? {
        let commands = (0..<shardMap.shardCount).map {
            ZRANGEWithScores(RedisArgument(keys.queue($0)), start: 0, stop: 0) as any RedisCommand
        }
        let results = try await store.read(commands)
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
