import Foundation
import Testing
import TockCore
import TockRedis
import TockStore

/// The cold index's Lua (store.lua, move.lua, status.lua) against the real Redis
/// (docs/tiered-storage.md): each test has its own key prefix.
@Suite("Cold index scripts")
struct ColdStoreTests {
    let base = ScheduleStoreTests()
    var now: Int64 { base.now }

    func cold(_ op: StoreEntry.Operation, _ m: ScheduledMessage, offset: Int64, version: UInt32) -> StoreEntry {
        var entry = base.entry(op, m, offset: offset)
        entry.coldVersion = version
        return entry
    }

    func record(_ m: ScheduledMessage, version: UInt32) -> ColdRecord {
        ColdRecord(id: m.id, dueMillis: m.dueMillis, version: version, blob: MessageCodec.encode(m))
    }

    func move(_ s: ScheduleStore, _ records: [ColdRecord], owners: [Int: ShardOwnership], positions: [String: Int64] = [:]) async throws
        -> [MoveOutcome]
    {
        var outcomes: [MoveOutcome] = []
        for r in records {
            let shard = s.shardMap.shard(of: r.id)
            outcomes += try await s.move([r], shard: shard, as: owners[shard]!, positions: positions, nowMillis: now)
        }
        return outcomes
    }

    @Test("a cold message is a duplicate for any schedule of its id, reports cold with its due time, and moves once")
    func coldScheduleAndMove() async throws {
        let s = try await base.makeStore()
        let owners = try await base.ownAll(s)
        let m = base.message("c1", due: now + 7_200_000)
        #expect(try await base.store(s, [cold(.scheduleCold, m, offset: 0, version: 7)]) == [.cold])
        #expect(
            try await base.store(s, [cold(.scheduleCold, m, offset: 1, version: 8), base.entry(.schedule, m, offset: 2)]) == [.duplicate, .duplicate])
        let status = try await s.status(of: "c1", nowMillis: now)
        #expect(status.state == .cold && status.scoreMillis == now + 7_200_000)
        #expect(try await s.coldCounts().total == 1)

        #expect(try await move(s, [record(m, version: 8)], owners: owners) == [.absent])
        #expect(try await move(s, [record(m, version: 7)], owners: owners) == [.moved])
        #expect(try await move(s, [record(m, version: 7)], owners: owners) == [.absent])
        #expect(try await s.status(of: "c1", nowMillis: now).state == .pending)
        #expect(try await s.coldCounts().total == 0)
    }

    @Test("a cancel removes a cold message: its record no longer moves, and its id reads as ended")
    func cancelCold() async throws {
        let s = try await base.makeStore()
        let owners = try await base.ownAll(s)
        let m = base.message("c2", due: now + 7_200_000)
        _ = try await base.store(s, [cold(.scheduleCold, m, offset: 0, version: 1)])
        let cancel = StoreEntry(
            operation: .cancel, topicPartition: "in/0", offset: 1, id: "c2", tombstone: Tombstone(id: "c2"), dueMillis: 0, blob: [])
        #expect(try await base.store(s, [cancel]) == [.cancelled])
        #expect(try await move(s, [record(m, version: 1)], owners: owners) == [.absent])
        #expect(try await s.status(of: "c2", nowMillis: now).state == .ended)
        #expect(try await base.store(s, [cold(.scheduleCold, m, offset: 2, version: 2)]) == [.tombstoned])
    }

    @Test("reschedules across tiers: cold to cold moves only the new record; cold to hot and hot to cold switch tiers")
    func rescheduleAcrossTiers() async throws {
        let s = try await base.makeStore()
        let owners = try await base.ownAll(s)
        let m = base.message("c3", due: now + 7_200_000)
        _ = try await base.store(s, [cold(.scheduleCold, m, offset: 0, version: 1)])
        var later = m
        later.dueMillis = now + 9_000_000
        #expect(try await base.store(s, [cold(.rescheduleCold, later, offset: 1, version: 2)]) == [.rescheduledCold])
        #expect(try await s.status(of: "c3", nowMillis: now).scoreMillis == now + 9_000_000)
        #expect(try await move(s, [record(m, version: 1)], owners: owners) == [.absent])

        var soon = m
        soon.dueMillis = now + 60_000
        #expect(try await base.store(s, [base.entry(.reschedule, soon, offset: 2)]) == [.rescheduled])
        #expect(try await move(s, [record(later, version: 2)], owners: owners) == [.absent])
        let hot = try await s.status(of: "c3", nowMillis: now)
        #expect(hot.state == .pending && hot.scoreMillis == now + 60_000)

        #expect(try await base.store(s, [cold(.rescheduleCold, later, offset: 3, version: 3)]) == [.rescheduledCold])
        #expect(try await s.status(of: "c3", nowMillis: now).state == .cold)
        #expect(try await move(s, [record(later, version: 3)], owners: owners) == [.moved])
        #expect(try await s.status(of: "c3", nowMillis: now).scoreMillis == now + 9_000_000)
    }

    @Test("a move by a stale owner epoch is fenced and moves nothing")
    func moveFenced() async throws {
        let s = try await base.makeStore(shards: 1)
        let owners = try await base.ownAll(s)
        let m = base.message("c4", due: now + 7_200_000)
        _ = try await base.store(s, [cold(.scheduleCold, m, offset: 0, version: 1)])
        let stale = ShardOwnership(worker: owners[0]!.worker, epoch: owners[0]!.epoch - 1)
        await #expect(throws: StoreError.self) { try await s.move([record(m, version: 1)], shard: 0, as: stale, positions: [:], nowMillis: now) }
        #expect(try await s.status(of: "c4", nowMillis: now).state == .cold)
        #expect(try await s.move([ColdRecord](), shard: 0, as: owners[0]!, positions: ["tock.cold.hours/3": 42], nowMillis: now) == [])
        #expect(try await s.coldPositions(shard: 0, fields: ["tock.cold.hours/3", "tock.cold.hours/4"]) == ["tock.cold.hours/3": 42])
        // A record found absent holds its partition's position back to it: its entry may still be coming.
        let early = base.message("c5", due: now + 7_200_000)
        let moves = [
            ColdMove(record(early, version: 1), field: "tock.cold.hours/3", offset: 44),
            ColdMove(record(m, version: 1), field: "tock.cold.hours/3", offset: 45),
        ]
        #expect(try await s.move(moves, shard: 0, as: owners[0]!, positions: ["tock.cold.hours/3": 46], nowMillis: now) == [.absent, .moved])
        #expect(try await s.coldPositions(shard: 0, fields: ["tock.cold.hours/3"]) == ["tock.cold.hours/3": 44])
    }

    @Test("the index splits its buckets as it grows and merges them as it empties; every id stays findable")
    func bucketsSplitAndMerge() async throws {
        let s = try await base.makeStore(shards: 1)
        let owners = try await base.ownAll(s)
        let count = 6_000
        let messages = (0..<count).map { base.message("g\($0)", due: now + 7_200_000 + Int64($0) * 1_000) }
        for (chunk, first) in stride(from: 0, to: count, by: 1_000).enumerated() {
            let entries = (first..<first + 1_000).map { cold(.scheduleCold, messages[$0], offset: Int64($0), version: UInt32(chunk)) }
            #expect(try await base.store(s, entries).allSatisfy { $0 == .cold })
        }
        let client = RedisClient(configuration: .init(url: try RedisURL(await sharedRedisURL())))
        defer { Task { await client.close() } }
        func meta() async throws -> [String: String] {
            try await client.send(HGETALL(RedisArgument(s.keys.coldMeta(0)))).filter { !$0.key.hasPrefix("h") }.mapValues {
                String(decoding: $0, as: UTF8.self)
            }
        }
        let fields = try await meta()
        let buckets = (1 << Int(fields["level"]!)!) + Int(fields["split"]!)!
        #expect(fields["n"] == String(count))
        #expect(buckets >= count / 40 && buckets <= count / 20)
        for id in ["g0", "g2999", "g5999"] { #expect(try await s.status(of: id, nowMillis: now).state == .cold) }
        #expect(try await s.coldCounts().byHourSlot.values.reduce(0, +) == count)

        let records = messages.enumerated().map { record($1, version: UInt32($0 / 1_000)) }
        for first in stride(from: 0, to: count, by: 500) {
            let moved = try await s.move(Array(records[first..<first + 500]), shard: 0, as: owners[0]!, positions: [:], nowMillis: now)
            #expect(moved.allSatisfy { $0 == .moved || $0 == .movedClaimed })
        }
        #expect(try await meta() == ["n": "0", "level": "0", "split": "0"])
        #expect(try await client.send(HGETALL(RedisArgument(s.keys.coldMeta(0)))).count == 3)
    }
}
