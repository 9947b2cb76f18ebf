import Foundation
import Testing
import TockCore
import TockRedis
import TockStore

/// The store's Lua scripts against the real Redis: each test has its own key prefix.
@Suite("ScheduleStore scripts")
struct ScheduleStoreTests {
    let now: Int64 = 1_900_000_000_000

    func makeStore(shards: Int = 4, retention: Int64 = 3_600_000) async throws -> ScheduleStore {
        let client = RedisClient(configuration: .init(url: try RedisURL(await sharedRedisURL())))
        return try ScheduleStore(client: client, keyPrefix: TestStack.unique("store"), shardCount: shards, retentionMillis: retention)
    }

    func message(_ id: String, due: Int64, given: Bool = true, topic: String = "out") -> ScheduledMessage {
        ScheduledMessage(
            id: id, idWasGiven: given, dueMillis: due, topic: topic, key: Array("k".utf8), value: Array("v-\(id)".utf8),
            headers: [RecordHeader(key: "h", value: [0, 1])])
    }

    func entry(_ op: StoreEntry.Operation, _ m: ScheduledMessage, offset: Int64, tp: String = "in/0") -> StoreEntry {
        StoreEntry(
            operation: op, topicPartition: tp, offset: offset, id: m.id, tombstone: m.idWasGiven ? Tombstone(id: m.id) : nil,
            dueMillis: m.dueMillis, blob: MessageCodec.encode(m))
    }

    /// Stores entries, grouped by shard in order, and returns outcomes in entry order.
    func store(
        _ store: ScheduleStore, _ entries: [StoreEntry], at time: Int64? = nil,
        owner: [Int: ShardOwnership] = [:], watermarks: [String: BatchWatermark] = [:]
    ) async throws -> [StoreOutcome] {
        var batches: [Int: [StoreEntry]] = [:]
        for e in entries { batches[store.shardMap.shard(of: e.id), default: []].append(e) }
        let outcomes = try await store.store(batches, watermarks: watermarks, nowMillis: time ?? now, claimAs: owner)
        var cursor: [Int: Int] = [:]
        return entries.map { e in
            let shard = store.shardMap.shard(of: e.id)
            defer { cursor[shard, default: 0] += 1 }
            return outcomes[shard]![cursor[shard, default: 0]]
        }
    }

    /// Records the deliveries of one lock as done.
    func finishDone(_ store: ScheduleStore, _ deliveries: [LockedDelivery], at time: Int64) async throws -> Bool {
        let delivery = try #require(deliveries.first)
        var outcome = LockOutcome(shard: delivery.shard, lock: delivery.lock)
        for d in deliveries { outcome.markDone(d) }
        return try await store.finish([outcome], as: [:], nowMillis: time)[0].held
    }

    func ownAll(_ store: ScheduleStore, worker: String = "w1") async throws -> [Int: ShardOwnership] {
        try await store.takeOwnership(of: Array(0..<store.shardMap.shardCount), worker: worker)
    }

    /// A one-shard store owned by `w1` that holds `messages` (stored at offsets 0, 1, …), claimed
    /// up to `horizon`.
    func claimedStore(_ messages: [ScheduledMessage], horizon: Int64) async throws -> (ScheduleStore, [Int: ShardOwnership]) {
        let s = try await makeStore(shards: 1)
        let owners = try await ownAll(s)
        _ = try await store(s, messages.enumerated().map { entry(.schedule, $1, offset: Int64($0)) })
        _ = try await s.claim(owners, nowMillis: now, horizon: horizon, limit: 10)
        return (s, owners)
    }

    @Test("a stored message is claimed, locked, published and completed; its attempt counts up")
    func fullLifecycle() async throws {
        let s = try await makeStore()
        let owners = try await ownAll(s)
        let m = message("a", due: now + 500)
        #expect(try await store(s, [entry(.schedule, m, offset: 0)]) == [.stored])
        let claimed = try await s.claim(owners, nowMillis: now, horizon: now + 1_000, limit: 100)
        let shard = s.shardMap.shard(of: "a")
        #expect(try claimed[shard]!.get().map(\.id) == ["a"])
        #expect(try claimed[shard]!.get().first?.dueMillis == now + 500)
        // Not due yet: the lock refuses it, so nothing is ever published early.
        let early = try await s.begin([shard: [("a", now + 500)]], as: owners, token: "t1", dueBy: now + 499, leaseUntil: now + 30_000)
        #expect(try early[shard]!.get().isEmpty)
        let locked = try await s.begin([shard: [("a", now + 500)]], as: owners, token: "t1", dueBy: now + 500, leaseUntil: now + 30_000)
        let delivery = try #require(try locked[shard]!.get().first)
        #expect(delivery.attempt == 1)
        #expect(delivery.message == m)
        #expect(try await s.status(of: "a", nowMillis: now + 500).state == .delivering)
        #expect(try await finishDone(s, try locked[shard]!.get(), at: now + 501))
        #expect(try await s.status(of: "a", nowMillis: now + 600).state == .ended)
        // A second lock on the same id finds nothing: it is never published twice.
        let again = try await s.begin([shard: [("a", now + 500)]], as: owners, token: "t1", dueBy: now + 700, leaseUntil: now + 30_000)
        #expect(try again[shard]!.get().isEmpty)
    }

    @Test("a record at or below its shard's watermark is a no-op, however late it is read again")
    func rereadIsNoop() async throws {
        let s = try await makeStore()
        let first = (0..<10).map { entry(.schedule, message("default/\($0)", due: now + 1_000, given: false), offset: Int64($0)) }
        #expect(try await store(s, first).allSatisfy { $0 == .stored })
        // The same records again (a commit that failed), and again a day later with the message gone.
        #expect(try await store(s, first).allSatisfy { $0 == .reread })
        #expect(try await store(s, first, at: now + 86_400_000).allSatisfy { $0 == .reread })
        let next = entry(.schedule, message("default/10", due: now + 1_000, given: false), offset: 10)
        #expect(try await store(s, [next]) == [.stored])
        #expect(try await s.highestStoredOffset(topic: "in", partition: 0) == 10)
    }

    @Test("watermarks are per input partition: the same offset on another partition is new")
    func watermarksPerPartition() async throws {
        let s = try await makeStore(shards: 1)
        #expect(try await store(s, [entry(.schedule, message("p0", due: now), offset: 5, tp: "in/0")]) == [.stored])
        #expect(try await store(s, [entry(.schedule, message("p1", due: now), offset: 5, tp: "in/1")]) == [.stored])
        #expect(try await store(s, [entry(.schedule, message("other", due: now), offset: 5, tp: "in2/0")]) == [.stored])
    }

    @Test("one tock-id is scheduled at most once while pending and for dedup.retention after it ended")
    func duplicateIds() async throws {
        let s = try await makeStore(retention: 60_000)
        let owners = try await ownAll(s)
        let m = message("dup", due: now)
        #expect(try await store(s, [entry(.schedule, m, offset: 0), entry(.schedule, m, offset: 1)]) == [.stored, .duplicate])
        let shard = s.shardMap.shard(of: "dup")
        _ = try await s.claim(owners, nowMillis: now, horizon: now, limit: 10)
        let locked = try await s.begin([shard: [("dup", now)]], as: owners, token: "t", dueBy: now, leaseUntil: now + 1_000)
        #expect(try await finishDone(s, try locked[shard]!.get(), at: now))
        #expect(try await store(s, [entry(.schedule, m, offset: 2)], at: now + 59_000) == [.tombstoned])
        // Past twice the retention (its tombstone set's window, then the retention) the id may be used again.
        #expect(try await store(s, [entry(.schedule, m, offset: 3)], at: now + 2 * 60_000 + 1) == [.stored])
    }

    @Test("a cancel that arrives before its schedule wins; a cancel of a pending message removes it")
    func cancels() async throws {
        let s = try await makeStore()
        let early = message("early", due: now + 10_000)
        #expect(try await store(s, [entry(.cancel, early, offset: 0)]) == [.cancelUnknown])
        #expect(try await store(s, [entry(.schedule, early, offset: 1)]) == [.tombstoned])
        let pending = message("pending", due: now + 10_000)
        #expect(try await store(s, [entry(.schedule, pending, offset: 2), entry(.cancel, pending, offset: 3)]) == [.stored, .cancelled])
        #expect(try await s.status(of: "pending", nowMillis: now).state == .ended)
        #expect(try await store(s, [entry(.cancel, pending, offset: 4)]) == [.cancelEnded])
    }

    @Test("reschedule replaces due time and payload of a pending message, and schedules an unknown id")
    func reschedules() async throws {
        let s = try await makeStore()
        let owners = try await ownAll(s)
        let original = message("r", due: now + 5_000)
        let moved = ScheduledMessage(id: "r", idWasGiven: true, dueMillis: now + 100, topic: "elsewhere", key: nil, value: [9], headers: [])
        #expect(try await store(s, [entry(.schedule, original, offset: 0)]) == [.stored])
        #expect(try await store(s, [entry(.reschedule, moved, offset: 1)]) == [.rescheduled])
        let status = try await s.status(of: "r", nowMillis: now)
        #expect(status.state == .pending && status.scoreMillis == now + 100 && status.message == moved)
        #expect(try await store(s, [entry(.reschedule, message("new", due: now), offset: 2)]) == [.stored])
        // A wheel entry left at the old time must not fire the rescheduled message.
        let shard = s.shardMap.shard(of: "r")
        _ = try await s.claim(owners, nowMillis: now, horizon: now + 10_000, limit: 10)
        let stale = try await s.begin([shard: [("r", now + 5_000)]], as: owners, token: "t", dueBy: now + 5_000, leaseUntil: now + 9_000)
        #expect(try stale[shard]!.get().isEmpty)
    }

    @Test("claim, begin and release fail the epoch check for a previous owner")
    func fencing() async throws {
        let s = try await makeStore(shards: 1)
        let old = try await ownAll(s, worker: "old")
        _ = try await store(s, [entry(.schedule, message("f", due: now), offset: 0)])
        _ = try await s.claim(old, nowMillis: now, horizon: now, limit: 10)
        let new = try await ownAll(s, worker: "new")
        #expect(new[0]!.epoch == old[0]!.epoch + 1)
        let claim = try await s.claim(old, nowMillis: now, horizon: now, limit: 10)
        guard case .failure(.fenced) = claim[0]! else {
            Issue.record("claim not fenced: \(claim)")
            return
        }
        let begin = try await s.begin([0: [("f", now)]], as: old, token: "t", dueBy: now, leaseUntil: now + 1_000)
        guard case .failure(.fenced) = begin[0]! else {
            Issue.record("begin not fenced")
            return
        }
        // The new owner claims what the shard had claimed from the start, and fires it.
        let reclaimed = try await s.claim(new, nowMillis: now, horizon: now, limit: 10)
        #expect(try reclaimed[0]!.get().map(\.id) == ["f"])
        // Released claims (a graceful stop) are claimed again too.
        #expect(try await s.release(shard: 0, as: new[0]!) == 1)
        #expect(try await s.claim(new, nowMillis: now, horizon: now, limit: 10)[0]!.get().map(\.id) == ["f"])
    }

    @Test("a delivery left locked by a dead worker is retried once its lease expires")
    func leaseExpiry() async throws {
        let m = message("l", due: now)
        let (s, owners) = try await claimedStore([m], horizon: now)
        let dead = try await s.begin([0: [("l", now)]], as: owners, token: "dead", dueBy: now, leaseUntil: now + 1_000)
        #expect(try await s.claim(owners, nowMillis: now + 999, horizon: now + 999, limit: 10)[0]!.get().isEmpty)
        let retried = try await s.claim(owners, nowMillis: now + 1_000, horizon: now + 1_000, limit: 10)
        #expect(try retried[0]!.get().map(\.id) == ["l"])
        let locked = try await s.begin([0: [("l", now + 1_000)]], as: owners, token: "live", dueBy: now + 1_000, leaseUntil: now + 2_000)
        #expect(try locked[0]!.get().first?.attempt == 2)
        #expect(try locked[0]!.get().first?.message == m)
        // The dead worker's late completion no longer counts.
        #expect(try await finishDone(s, try dead[0]!.get(), at: now + 1_001) == false)
        #expect(try await finishDone(s, try locked[0]!.get(), at: now + 1_001))
        #expect(try await s.status(of: "l", nowMillis: now + 1_002).state == .ended)
    }

    @Test("a batch finished in parts keeps its lock over what is left, and a dead worker's unfinished part is retried")
    func partialFinish() async throws {
        let (s, owners) = try await claimedStore([message("p1", due: now), message("p2", due: now + 20)], horizon: now + 20)
        let locked = try await s.begin(
            [0: [("p1", now), ("p2", now + 20)]], as: owners, token: "dead", dueBy: now + 20,
            leaseUntil: now + 1_000)
        let deliveries = try locked[0]!.get()
        #expect(Set(deliveries.map(\.lock)).count == 1)
        #expect(try await finishDone(s, deliveries.filter { $0.message.id == "p1" }, at: now + 1))
        #expect(try await s.status(of: "p1", nowMillis: now + 2).state == .ended)
        #expect(try await s.status(of: "p2", nowMillis: now + 2).state == .delivering)
        // The worker dies before the second part: only that part comes back, once the lease runs out.
        let retried = try await s.claim(owners, nowMillis: now + 1_000, horizon: now + 1_000, limit: 10)
        #expect(try retried[0]!.get().map(\.id) == ["p2"])
        // A part finished after that no longer counts.
        #expect(try await finishDone(s, deliveries.filter { $0.message.id == "p2" }, at: now + 1_001) == false)
    }

    @Test("a renewed delivery lock does not expire; a lock that ran out cannot be renewed")
    func leaseRenewal() async throws {
        let (s, owners) = try await claimedStore([message("slow", due: now)], horizon: now)
        let locked = try await s.begin([0: [("slow", now)]], as: owners, token: "live", dueBy: now, leaseUntil: now + 1_000)
        let lock = try #require(try locked[0]!.get().first?.lock)
        #expect(lock.hasPrefix("live:"))
        #expect(try await s.renew([0: ["other:1"]], leaseUntil: now + 5_000) == [0: 0])
        #expect(try await s.renew([0: [lock]], leaseUntil: now + 5_000) == [0: 1])
        // Past the first lease but within the renewed one: nobody else may retry it.
        #expect(try await s.claim(owners, nowMillis: now + 2_000, horizon: now + 2_000, limit: 10)[0]!.get().isEmpty)
        #expect(try await s.claim(owners, nowMillis: now + 5_000, horizon: now + 5_000, limit: 10)[0]!.get().map(\.id) == ["slow"])
        #expect(try await s.renew([0: [lock]], leaseUntil: now + 9_000) == [0: 0])
    }

    @Test("a worker's claim never reaps its own expired lock within the grace: it is still delivering it")
    func ownLocksSurviveOwnClaims() async throws {
        let (s, owners) = try await claimedStore([message("mine", due: now)], horizon: now)
        _ = try await s.begin([0: [("mine", now)]], as: owners, token: "me", dueBy: now, leaseUntil: now + 1_000)
        let own = try await s.claim(owners, nowMillis: now + 5_000, horizon: now + 5_000, limit: 10, token: "me", ownGraceMillis: 60_000)
        #expect(try own[0]!.get().isEmpty)
        let late = try await s.claim(owners, nowMillis: now + 61_001, horizon: now + 61_001, limit: 10, token: "me", ownGraceMillis: 60_000)
        #expect(try late[0]!.get().map(\.id) == ["mine"])
    }

    @Test("a failed delivery is scheduled again at its retry time, into the wheel when due soon")
    func retries() async throws {
        let (s, owners) = try await claimedStore([message("x", due: now), message("y", due: now)], horizon: now + 1_000)
        let locked = try await s.begin([0: [("x", now), ("y", now)]], as: owners, token: "t", dueBy: now, leaseUntil: now + 30_000)
        let deliveries = try locked[0]!.get()
        var outcome = LockOutcome(shard: 0, lock: deliveries[0].lock)
        for d in deliveries { outcome.markRetry(d, atMillis: d.message.id == "x" ? now + 500 : now + 60_000) }
        let finished = try await s.finish([outcome], as: owners, nowMillis: now)
        #expect(finished[0].held && finished[0].claimed.map(\.id) == ["x"])
        #expect(try await s.status(of: "x", nowMillis: now).state == .claimed)
        let y = try await s.status(of: "y", nowMillis: now)
        #expect(y.state == .pending && y.scoreMillis == now + 60_000 && y.attempts == 1)
        // The next attempt counts on from the failed one.
        let again = try await s.begin([0: [("x", now + 500)]], as: owners, token: "t", dueBy: now + 500, leaseUntil: now + 30_000)
        #expect(try again[0]!.get().first?.attempt == 2)
    }

    @Test("a message stored in an owned shard due by the owner's claimed-up-to time goes straight into its wheel")
    func directClaim() async throws {
        let s = try await makeStore(shards: 1)
        let owners = try await ownAll(s)
        _ = try await s.claim(owners, nowMillis: now, horizon: now + 1_000, limit: 10)
        let outcomes = try await store(
            s,
            [
                entry(.schedule, message("soon", due: now + 100), offset: 0),
                entry(.schedule, message("later", due: now + 100_000), offset: 1),
            ],
            owner: owners)
        #expect(outcomes == [.claimed, .stored])
        // Stored by another worker below the owner's claimed-up-to time: the owner's next claim takes it.
        #expect(try await store(s, [entry(.schedule, message("other", due: now + 200), offset: 2)]) == [.stored])
        #expect(try await s.claim(owners, nowMillis: now, horizon: now + 1_000, limit: 10)[0]!.get().map(\.id) == ["other"])
    }

    @Test("a dataset written in another store format is refused with a clear error")
    func formatChecked() async throws {
        let client = RedisClient(configuration: .init(url: try RedisURL(await sharedRedisURL())))
        let prefix = TestStack.unique("format")
        _ = try await client.send(RawRedisCommand(["HSET", RedisArgument("\(prefix):meta"), "shards", "4"]))
        do {
            try await ScheduleStore(client: client, keyPrefix: prefix, shardCount: 4, retentionMillis: 1).verifyShardCount()
            Issue.record("a format-1 dataset was accepted")
        } catch {
            #expect("\(error)".contains("format 1") && "\(error)".contains("no migration"))
        }
        let fresh = TestStack.unique("format")
        try await ScheduleStore(client: client, keyPrefix: fresh, shardCount: 4, retentionMillis: 1).verifyShardCount()
        let format = try await client.send(RawRedisCommand(["HGET", RedisArgument("\(fresh):meta"), "format"]))
        #expect(format.string == String(ScheduleStore.formatVersion))
        // Processes starting together on a fresh dataset (a monitor and its workers) all accept it:
        // none sees the shard count without the format.
        let together = TestStack.unique("format")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let own = RedisClient(configuration: .init(url: try RedisURL(await sharedRedisURL())))
                    try await ScheduleStore(client: own, keyPrefix: together, shardCount: 4, retentionMillis: 1).verifyShardCount()
                    await own.close()
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("a different shard count than the dataset's is refused with a clear error")
    func shardCountFixed() async throws {
        let client = RedisClient(configuration: .init(url: try RedisURL(await sharedRedisURL())))
        let prefix = TestStack.unique("meta")
        try await ScheduleStore(client: client, keyPrefix: prefix, shardCount: 64, retentionMillis: 1).verifyShardCount()
        try await ScheduleStore(client: client, keyPrefix: prefix, shardCount: 64, retentionMillis: 1).verifyShardCount()
        do {
            try await ScheduleStore(client: client, keyPrefix: prefix, shardCount: 32, retentionMillis: 1).verifyShardCount()
            Issue.record("a different shard count was accepted")
        } catch {
            #expect("\(error)".contains("64"))
        }
    }

    @Test("reset-watermarks starts a new generation of one topic's partitions: their next records are stored, the other topic's are not")
    func resetWatermarks() async throws {
        let s = try await makeStore()
        _ = try await store(
            s,
            [
                entry(.schedule, message("a1", due: now, given: false), offset: 7, tp: "orders/0"),
                entry(.schedule, message("b1", due: now, given: false), offset: 7, tp: "orders-v2/0"),
            ])
        // Through the command line, as an operator would.
        let cli = try await CLIRun.run(
            ["reset-watermarks", "orders"],
            environment: ["TOCK_REDIS_URL": await sharedRedisURL(), "TOCK_STORE_KEY_PREFIX": s.keyPrefix, "TOCK_STORE_SHARDS": "4"])
        #expect(cli.status == 0 && cli.stdout.contains("orders/0: generation 1 begins"), "\(cli.stdout)\(cli.stderr)")
        #expect(try await s.highestStoredOffset(topic: "orders", partition: 0) == -1)
        #expect(try await s.highestStoredOffset(topic: "orders-v2", partition: 0) == 7)
        let marks = try await s.partitionMarks(topic: "orders", partition: 0)
        #expect(marks.allSatisfy { $0.generation == 1 && $0.offset == -1 })
        let next = BatchWatermark(generation: 1, topicID: nil, offset: 0, fingerprint: "1:ab")
        #expect(
            try await store(s, [entry(.schedule, message("a2", due: now, given: false), offset: 0, tp: "orders/0")], watermarks: ["orders/0": next])
                == [.stored])
        #expect(try await store(s, [entry(.schedule, message("b1", due: now, given: false), offset: 7, tp: "orders-v2/0")]) == [.reread])
    }

    @Test("a later generation's records are stored at any offset, replace the old watermark and carry their mark; an older one's leave it alone")
    func generations() async throws {
        let s = try await makeStore(shards: 1)
        let first = BatchWatermark(generation: 0, topicID: "AAA", offset: 9, fingerprint: "100:0a")
        let old = (0..<10).map { entry(.schedule, message("in/0/\($0)", due: now + 60_000, given: false), offset: Int64($0)) }
        #expect(try await store(s, old, watermarks: ["in/0": first]).allSatisfy { $0 == .stored })
        #expect(
            try await s.partitionMarks(topic: "in", partition: 0) == [PartitionMark(offset: 9, generation: 0, topicID: "AAA", fingerprint: "100:0a")])
        // Generation 1 (the partition was recreated): offsets 0-3 again, under their own ids.
        let second = BatchWatermark(generation: 1, topicID: "BBB", offset: 3, fingerprint: "200:0b")
        let new = (0..<4).map { entry(.schedule, message("in/0/\($0)~1", due: now + 60_000, given: false), offset: Int64($0)) }
        #expect(try await store(s, new, watermarks: ["in/0": second]).allSatisfy { $0 == .stored })
        #expect(
            try await s.partitionMarks(topic: "in", partition: 0) == [PartitionMark(offset: 3, generation: 1, topicID: "BBB", fingerprint: "200:0b")])
        #expect(try await store(s, new, watermarks: ["in/0": second]).allSatisfy { $0 == .reread })
        // A record of generation 0 stored late (read before the topic was deleted): stored, and
        // the watermark stays generation 1's.
        let late = [entry(.schedule, message("in/0/10", due: now + 60_000, given: false), offset: 10)]
        #expect(
            try await store(s, late, watermarks: ["in/0": BatchWatermark(generation: 0, topicID: "AAA", offset: 10, fingerprint: "101:0c")]) == [
                .stored
            ])
        #expect(
            try await s.partitionMarks(topic: "in", partition: 0) == [PartitionMark(offset: 3, generation: 1, topicID: "BBB", fingerprint: "200:0b")])
        // A re-read batch keeps the mark of the record at the watermark.
        #expect(
            try await store(s, Array(new.prefix(2)), watermarks: ["in/0": BatchWatermark(generation: 1, topicID: "BBB", offset: 1, fingerprint: "x")])
                == [.reread, .reread])
        #expect(try await s.partitionMarks(topic: "in", partition: 0)[0].fingerprint == "200:0b")
        let count = try await s.client.send(RawRedisCommand(["HLEN", RedisArgument(s.keys.messages(0))]), idempotent: true)
        #expect(count == .integer(15))
        // A worker of an earlier release moves the watermark alone: the fingerprint describes
        // another record then, and counts as none (a check cannot verify; it cannot mistake either).
        _ = try await s.client.send(RawRedisCommand(["HSET", RedisArgument(s.keys.watermarks(0)), "in/0", "5"]), idempotent: true)
        #expect(try await s.partitionMarks(topic: "in", partition: 0) == [PartitionMark(offset: 5, generation: 1, topicID: "BBB", fingerprint: nil)])
    }

    @Test("the standalone lease admits one holder; the same holder renews it; others see its remaining time")
    func standaloneLease() async throws {
        let s = try await makeStore()
        #expect(try await s.acquireLease("standalone", holder: "w1", ttlMillis: 5_000) == nil)
        #expect(try await s.acquireLease("standalone", holder: "w1", ttlMillis: 5_000) == nil)
        let first = try #require(try await s.acquireLease("standalone", holder: "w2", ttlMillis: 5_000))
        #expect(first.holder == "w1")
        #expect((4_000...5_000).contains(first.remainingMillis), "\(first)")
        // Not renewed: the remaining time only falls. Renewed: it rises.
        try await Task.sleep(for: .milliseconds(50))
        let later = try #require(try await s.acquireLease("standalone", holder: "w2", ttlMillis: 5_000))
        #expect(later.remainingMillis < first.remainingMillis)
        #expect(try await s.acquireLease("standalone", holder: "w1", ttlMillis: 5_000) == nil)
        let renewed = try #require(try await s.acquireLease("standalone", holder: "w2", ttlMillis: 5_000))
        #expect(renewed.remainingMillis > later.remainingMillis)
        try await s.releaseLease("standalone", holder: "w1")
        #expect(try await s.acquireLease("standalone", holder: "w2", ttlMillis: 5_000) == nil)
        // An expired lease is free for anyone.
        #expect(try await s.acquireLease("standalone", holder: "w3", ttlMillis: 5_000)?.holder == "w2")
        try await s.releaseLease("standalone", holder: "w2")
        #expect(try await s.acquireLease("standalone", holder: "w4", ttlMillis: 50) == nil)
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await s.acquireLease("standalone", holder: "w3", ttlMillis: 5_000) == nil)
    }
}
