import Foundation
import Testing
import TockCore
import TockRedis
import TockStore

/// Issue 25 item 2 in the store's scripts, against the real Redis: what a series published under
/// its id (its published-through mark and count) outlives reschedules, late ones, occurrences in
/// flight or waiting for a retry, and a one-shot message of its id in between.
@Suite("Series: published once across reschedules")
struct SeriesPublishedThroughTests {
    let t = SeriesStoreTests()
    var now: Int64 { t.now }

    /// Publishes `series`' occurrences due by `through`, one finish at a time, as a worker would.
    func publish(_ store: ScheduleStore, _ owners: [Int: ShardOwnership], _ series: String, from first: Int64, through: Int64) async throws {
        var time = first
        while time <= through {
            let locked = try await t.fire(store, owners, at: time).filter { $0.series?.id == series }
            #expect(locked.map(\.entry) == ["\(series) \(time)"])
            _ = try await t.finish(store, owners, locked, at: time)
            time += 1_000
        }
    }

    @Test(
        "issue 25 item 2: a reschedule read late (its first occurrence already published) carries the count and the published-through mark; nothing at or before it is published again"
    )
    func lateReschedule() async throws {
        let (s, owners) = try await t.storeWithSeries(["late"], count: 10)
        try await publish(s, owners, "late", from: now, through: now + 5_000)
        // Written at +2.5 s, read after +5 s: the parser made its first occurrence +3 s.
        #expect(
            try await t.base.store(s, [t.base.entry(.rescheduleSeries, t.series("late", first: now + 3_000, count: 10, value: "new"), offset: 1)])
                == [
                    .rescheduled
                ])
        let state = try #require(try await s.status(of: "late", nowMillis: now).series)
        #expect(state.dueMillis == now + 3_000 && state.fired == 6 && state.publishedThrough == now + 5_000)
        let locked = try await t.fire(s, owners, at: now + 5_600)
        #expect(locked.map(\.entry) == ["late \(now + 3_000)"] && t.settled(locked[0], at: now + 5_600) == .moveTo(now + 6_000))
        _ = try await t.finish(s, owners, locked, at: now + 5_600) { t.skip(&$0, $1, at: now + 5_600) }
        // Four more with the new payload, then the count of 10 is reached.
        try await publish(s, owners, "late", from: now + 6_000, through: now + 8_000)
        let last = try await t.fire(s, owners, at: now + 9_000)
        #expect(last.map(\.entry) == ["late \(now + 9_000)"] && last.first?.message.value == Array("new".utf8))
        #expect(last.first?.series?.nextAfterPublishing == nil)
        _ = try await t.finish(s, owners, last, at: now + 9_000)
        #expect(try await s.status(of: "late", nowMillis: now).state == .ended)
    }

    @Test(
        "issue 25 item 2: a series replaced by a one-shot message and back keeps its published-through mark and count, an occurrence being delivered counted once"
    )
    func oneShotAndBack() async throws {
        let (s, owners) = try await t.storeWithSeries(["x"])
        try await publish(s, owners, "x", from: now, through: now + 1_000)
        _ = try await t.base.store(s, [t.base.entry(.scheduleSeries, t.series("y", first: now + 1_500), offset: 1)])
        let inFlight = try await t.fire(s, owners, at: now + 1_500)
        #expect(inFlight.map(\.entry) == ["y \(now + 1_500)"])
        #expect(
            try await t.base.store(
                s,
                [
                    t.base.entry(.reschedule, t.base.message("x", due: now + 60_000), offset: 2),
                    t.base.entry(.reschedule, t.base.message("y", due: now + 60_000), offset: 3),
                ]) == [.rescheduled, .rescheduled])
        // y's occurrence, being delivered, counted already when y became a message: its finish counts nothing more.
        #expect(try await t.finish(s, owners, inFlight, at: now + 10).flatMap(\.claimed).isEmpty)
        func retired(_ id: String) async throws -> String? {
            try await s.client.send(RawRedisCommand(["HGET", RedisArgument(s.keys.retiredSeries(s.shardMap.shard(of: id))), RedisArgument(id)]))
                .string
        }
        let (x, y) = (try await retired("x"), try await retired("y"))
        #expect(x == "\(now + 1_000):2" && y == "\(now + 1_500):1")
        #expect(
            try await t.base.store(
                s,
                [
                    t.base.entry(.rescheduleSeries, t.series("x", first: now, value: "back"), offset: 4),
                    t.base.entry(.rescheduleSeries, t.series("y", first: now, value: "back"), offset: 5),
                ]) == [.rescheduled, .rescheduled])
        #expect(try await retired("x") == nil)
        #expect(try await retired("y") == nil)
        let back = try await t.fire(s, owners, at: now + 1_500)
        #expect(Set(back.map(\.entry)) == ["x \(now)", "y \(now)"])
        let marks = Dictionary(uniqueKeysWithValues: back.map { ($0.series!.id, t.settled($0, at: now + 1_500)) })
        #expect(marks["x"] == .moveTo(now + 2_000) && marks["y"] == .moveTo(now + 2_000))
        #expect(back.first { $0.series?.id == "x" }?.series?.state.fired == 2)
    }

    @Test("a one-shot message that replaced a series takes the series' retired entry with it when it is done")
    func retiredGoesWithTheMessage() async throws {
        let (s, owners) = try await t.storeWithSeries(["z"])
        try await publish(s, owners, "z", from: now, through: now)
        _ = try await t.base.store(s, [t.base.entry(.reschedule, t.base.message("z", due: now + 2_000), offset: 1)])
        let key = RedisArgument(s.keys.retiredSeries(s.shardMap.shard(of: "z")))
        #expect(try await s.client.send(RawRedisCommand(["HLEN", key])) == .integer(1))
        let locked = try await t.fire(s, owners, at: now + 2_000)
        #expect(locked.map(\.entry) == ["z"])
        #expect(try await t.base.finishDone(s, locked, at: now + 2_000))
        #expect(try await s.client.send(RawRedisCommand(["HLEN", key])) == .integer(0))
    }

    @Test(
        "an occurrence waiting for a retry (its attempt may be in Kafka) stays current through a reschedule to another due; the new definition decides it"
    )
    func retriedStaysCurrent() async throws {
        let (s, owners) = try await t.storeWithSeries(["r"])
        let locked = try await t.fire(s, owners, at: now)
        _ = try await t.finish(s, owners, locked, at: now) { $0.markRetry($1, atMillis: now + 1_000) }
        #expect(
            try await t.base.store(s, [t.base.entry(.rescheduleSeries, t.series("r", first: now + 500, value: "new"), offset: 1)]) == [.rescheduled])
        let status = try await s.status(of: "r", nowMillis: now)
        #expect(status.series?.dueMillis == now && status.scoreMillis == now + 1_000 && status.attempts == 1)
        let again = try await t.fire(s, owners, at: now + 1_000)
        #expect(again.map(\.entry) == ["r \(now)"] && again.first?.attempt == 2)
        // Not an occurrence of the new definition: never published by it; it goes on at its first.
        #expect(t.settled(try #require(again.first), at: now + 1_000) == .moveTo(now + 500))
    }
}
