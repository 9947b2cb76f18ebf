import Foundation
import Testing
import TockCore
import TockRedis
import TockStore

/// The tag index (prelude.lua's `tagIndex`, in store.lua and finish.lua) against the real Redis:
/// an id is in its tags' sets exactly while it is pending, hot or cold; untagged ids write nothing.
@Suite("Tag index scripts")
struct TagIndexStoreTests {
    let base = ScheduleStoreTests()
    var now: Int64 { base.now }

    func tagged(_ op: StoreEntry.Operation, _ m: ScheduledMessage, offset: Int64, tags: String) -> StoreEntry {
        var entry = base.entry(op, m, offset: offset)
        entry.tags = tags
        return entry
    }

    @Test("schedule, reschedule (tags replaced), cold, cancel and delivery keep each tag's set to the pending ids that carry it")
    func lifecycle() async throws {
        let s = try await base.makeStore()
        let owners = try await base.ownAll(s)
        let a = base.message("a", due: now + 500)
        let b = base.message("b", due: now + 60_000)
        let c = base.message("c", due: now + 7_200_000)
        let u = base.message("u", due: now + 60_000)
        var coldC = tagged(.scheduleCold, c, offset: 2, tags: "t1")
        coldC.coldVersion = 1
        #expect(
            try await base.store(
                s,
                [
                    tagged(.schedule, a, offset: 0, tags: "t1,t2"), tagged(.schedule, b, offset: 1, tags: "t1"), coldC,
                    base.entry(.schedule, u, offset: 3),
                ])
                == [.stored, .stored, .cold, .stored])
        #expect(try await s.taggedCount(tag: "t1") == 3)
        #expect(try await s.taggedCount(tag: "t2") == 1)

        // A reschedule gives b exactly its new tags; one with none takes them all away.
        #expect(try await base.store(s, [tagged(.reschedule, b, offset: 4, tags: "t2")]) == [.rescheduled])
        #expect(try await s.taggedCount(tag: "t1") == 2)
        #expect(try await s.taggedCount(tag: "t2") == 2)
        #expect(try await base.store(s, [base.entry(.cancel, c, offset: 5)]) == [.cancelled])
        #expect(try await s.taggedCount(tag: "t1") == 1)

        // a fires: its delivery's finish takes it out of every set.
        let shard = s.shardMap.shard(of: "a")
        let locked = try await s.begin([shard: [("a", now + 500)]], as: owners, token: "t1", dueBy: now + 500, leaseUntil: now + 30_000)
        #expect(try await base.finishDone(s, try locked[shard]!.get(), at: now + 501))
        #expect(try await s.taggedCount(tag: "t1") == 0)
        #expect(try await s.taggedCount(tag: "t2") == 1)
        var scanned: [String] = []
        var cursor = "0"
        repeat {
            let step = try await s.taggedIDs(shard: s.shardMap.shard(of: "b"), tag: "t2", cursor: cursor, count: 10)
            scanned += step.ids
            cursor = step.cursor
        } while cursor != "0"
        #expect(scanned == ["b"])

        // Untagged ids never wrote the index of a shard no tagged id reached.
        let client = s.client
        for shard in 0..<s.shardMap.shardCount
        where ![s.shardMap.shard(of: "a"), s.shardMap.shard(of: "b"), s.shardMap.shard(of: "c")].contains(shard) {
            let exists = try await client.send(RawRedisCommand(["EXISTS", RedisArgument(s.keys.tagIndex(shard))]))
            #expect(exists == .integer(0))
        }
    }
}
