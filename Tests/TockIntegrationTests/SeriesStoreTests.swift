import Foundation
import Testing
import TockCore
import TockRedis
import TockStore

/// A series in the store's scripts, against the real Redis: one stored record, each occurrence
/// placed by the finish of the one before, and reschedule and cancel racing a delivery.
@Suite("Series in the store")
struct SeriesStoreTests {
    let base = ScheduleStoreTests()
    var now: Int64 { base.now }

    func series(_ id: String, first: Int64, every: Int64 = 1_000, count: Int? = nil, value: String = "v") -> ScheduledMessage {
        var m = base.message(id, due: first)
        m.value = Array(value.utf8)
        m.series = SeriesDefinition(cron: nil, everyMillis: every, startMillis: first, count: count)
        return m
    }

    /// A store owned by `w1` that holds a series under each of `ids` (stored at offsets 0, 1, …):
    /// every 1 s from `now`, `count` times (without end when nil).
    func storeWithSeries(_ ids: [String], count: Int? = nil) async throws -> (ScheduleStore, [Int: ShardOwnership]) {
        let s = try await base.makeStore()
        let owners = try await base.ownAll(s)
        _ = try await base.store(s, ids.enumerated().map { base.entry(.scheduleSeries, series($1, first: now, count: count), offset: Int64($0)) })
        return (s, owners)
    }

    /// Claims, locks and returns the locked occurrences due by `time`.
    func fire(_ store: ScheduleStore, _ owners: [Int: ShardOwnership], at time: Int64) async throws -> [LockedDelivery] {
        let claimed = try await store.claim(owners, nowMillis: time, horizon: time + 100, limit: 100)
        var byShard: [Int: [(id: String, fireMillis: Int64)]] = [:]
        for (shard, result) in claimed { byShard[shard] = try result.get().map { ($0.id, $0.dueMillis) } }
        let locked = try await store.begin(byShard.filter { !$0.value.isEmpty }, as: owners, token: "t", dueBy: time + 250, leaseUntil: time + 3_000)
        return try locked.values.flatMap { try $0.get() }
    }

    func finish(
        _ store: ScheduleStore, _ owners: [Int: ShardOwnership], _ deliveries: [LockedDelivery], at time: Int64,
        _ mark: (inout LockOutcome, LockedDelivery) -> Void = { $0.markDone($1) }
    ) async throws -> [FinishedLock] {
        var outcomes: [LockOutcome] = []
        for d in deliveries {
            var outcome = LockOutcome(shard: d.shard, lock: d.lock)
            mark(&outcome, d)
            outcomes.append(outcome)
        }
        return try await store.finish(outcomes, as: owners, nowMillis: time)
    }

    @Test("each occurrence is locked as <series> <due>, published as <series>@<due>, and its finish places the next until the count")
    func lifecycle() async throws {
        let s = try await base.makeStore()
        let owners = try await base.ownAll(s)
        #expect(try await base.store(s, [base.entry(.scheduleSeries, series("a", first: now, count: 3), offset: 0)]) == [.stored])
        var fired: [String] = []
        var time = now
        while fired.count < 5 {
            let locked = try await fire(s, owners, at: time)
            if locked.isEmpty { break }
            let d = try #require(locked.first)
            #expect(d.entry == "a \(time)" && d.message.id == "a@\(time)" && d.message.dueMillis == time && d.series?.id == "a")
            fired.append(d.message.id)
            _ = try await finish(s, owners, locked, at: time)
            time += 1_000
        }
        #expect(fired == ["a@\(now)", "a@\(now + 1_000)", "a@\(now + 2_000)"])
        #expect(try await s.status(of: "a", nowMillis: time).state == .ended)
    }

    @Test("a duplicate series is a no-op; reschedule replaces a queued series; cancel ends it")
    func duplicateRescheduleCancel() async throws {
        let s = try await base.makeStore()
        let owners = try await base.ownAll(s)
        #expect(
            try await base.store(
                s,
                [
                    base.entry(.scheduleSeries, series("a", first: now + 5_000), offset: 0),
                    base.entry(.scheduleSeries, series("a", first: now + 6_000), offset: 1),
                    base.entry(.rescheduleSeries, series("a", first: now + 7_000, every: 2_000, value: "w"), offset: 2),
                ]) == [.stored, .duplicate, .rescheduled])
        let status = try await s.status(of: "a", nowMillis: now)
        #expect(
            status.state == .pending && status.scoreMillis == now + 7_000 && status.series?.dueMillis == now + 7_000
                && (status.series?.generation ?? 0) >= 2
        )
        let locked = try await fire(s, owners, at: now + 7_000)
        #expect(locked.map(\.message.id) == ["a@\(now + 7_000)"] && locked.first?.message.value == Array("w".utf8))
        _ = try await finish(s, owners, locked, at: now + 7_000)
        #expect(try await s.status(of: "a", nowMillis: now).scoreMillis == now + 9_000)
        #expect(try await base.store(s, [base.entry(.cancel, base.message("a", due: 0), offset: 3)]) == [.cancelled])
        #expect(try await fire(s, owners, at: now + 9_000).isEmpty)
        #expect(try await s.status(of: "a", nowMillis: now).state == .ended)
    }

    /// Where the worker would take the series of a locked occurrence that is not published
    /// (`Recurrence.settle`), as a skip to record.
    func settled(_ d: LockedDelivery, at time: Int64) -> Recurrence.CatchUp? {
        guard let series = d.series, let recurrence = series.recurrence else { return nil }
        return recurrence.settle(
            series.state.dueMillis, fired: series.state.fired, publishedThrough: series.state.publishedThrough,
            firstTry: d.attempt == 1, nowMillis: time, missedAfterMillis: 1_000)
    }

    func skip(_ outcome: inout LockOutcome, _ d: LockedDelivery, at time: Int64) {
        switch settled(d, at: time) {
        case .moveTo(let next): outcome.markSkipped(d, next: next)
        case .end: outcome.markSkipped(d, next: nil)
        default: Issue.record("\(d.entry) would be published")
        }
    }

    @Test(
        "an occurrence being delivered when its series is cancelled or rescheduled is published once; a reschedule keeps it current, and the new definition only advances it"
    )
    func raceWithDelivery() async throws {
        let (s, owners) = try await storeWithSeries(["c", "r", "same"])
        let locked = try await fire(s, owners, at: now)
        #expect(Set(locked.map(\.message.id)) == ["c@\(now)", "r@\(now)", "same@\(now)"])
        #expect(
            try await base.store(
                s,
                [
                    base.entry(.cancel, base.message("c", due: 0), offset: 3),
                    base.entry(.rescheduleSeries, series("r", first: now + 5_000, value: "new"), offset: 4),
                    // Its first occurrence is the very one being delivered.
                    base.entry(.rescheduleSeries, series("same", first: now, every: 3_000, value: "new"), offset: 5),
                ]) == [.cancelled, .rescheduled, .rescheduled])
        // Both reschedules kept the occurrence being delivered current, so the series never has two
        // occurrences in flight; the ones published come back, counted, only to advance.
        let finished = try await finish(s, owners, locked, at: now + 10)
        #expect(Set(finished.flatMap(\.claimed).map(\.id)) == ["r \(now)", "same \(now)"])
        var again: [LockedDelivery] = []
        for id in ["r", "same"] {
            again += try await s.begin(
                [s.shardMap.shard(of: id): [("\(id) \(now)", now)]], as: owners, token: "t", dueBy: now + 270, leaseUntil: now + 3_000
            ).values.flatMap { try $0.get() }
        }
        #expect(again.count == 2 && again.allSatisfy { $0.series?.state.published == true && $0.series?.state.fired == 1 })
        #expect(again.allSatisfy { $0.message.value == Array("new".utf8) })
        for d in again {
            #expect(try await finish(s, owners, [d], at: now + 20) { skip(&$0, $1, at: now + 20) }.first?.claimed.isEmpty == true)
        }
        #expect(try await s.status(of: "same", nowMillis: now).scoreMillis == now + 3_000)
        let r = try await s.status(of: "r", nowMillis: now)
        #expect(r.scoreMillis == now + 5_000 && r.series?.fired == 1 && r.series?.publishedThrough == now)
        #expect(try await s.status(of: "c", nowMillis: now).state == .ended)
    }

    @Test("a dead worker's occurrence comes back with its attempt, also one a reschedule kept current: the new definition only advances it")
    func expiredLock() async throws {
        let (s, owners) = try await storeWithSeries(["kept", "moved"])
        #expect(try await fire(s, owners, at: now).count == 2)
        _ = try await base.store(s, [base.entry(.rescheduleSeries, series("moved", first: now + 60_000), offset: 2)])
        // The lease (3 s) runs out: the claim takes back what is still current.
        let again = try await fire(s, owners, at: now + 4_000)
        #expect(Set(again.map(\.entry)) == ["kept \(now)", "moved \(now)"] && again.allSatisfy { $0.attempt == 2 && $0.message.dueMillis == now })
        // Maybe published by the dead worker, never by the new definition, which starts later.
        #expect(settled(try #require(again.first { $0.entry == "moved \(now)" }), at: now + 4_000) == .moveTo(now + 60_000))
    }

    @Test(
        "a reschedule to the same first due keeps the occurrence: its attempts, its published mark, and a skipped one comes back to be decided again")
    func rescheduleOnTheSameOccurrence() async throws {
        let (s, owners) = try await storeWithSeries(["retried", "skipped", "twice"])
        let locked = try await fire(s, owners, at: now)
        #expect(locked.count == 3)
        func one(_ id: String) -> LockedDelivery { locked.first { $0.series?.id == id }! }
        // retried: its first attempt failed; a reschedule to the same due keeps the attempt, so the
        // next one reads the output back first.
        _ = try await finish(s, owners, [one("retried")], at: now) { $0.markRetry($1, atMillis: now + 500) }
        #expect(try await base.store(s, [base.entry(.rescheduleSeries, series("retried", first: now, value: "new"), offset: 3)]) == [.rescheduled])
        let retried = try await s.status(of: "retried", nowMillis: now)
        #expect(retried.scoreMillis == now + 500 && retried.attempts == 1, "\(retried)")
        // skipped: catch-up passed it over under the old definition while a reschedule to the same
        // due came in; it stays current and comes back, not stranded.
        #expect(try await base.store(s, [base.entry(.rescheduleSeries, series("skipped", first: now, value: "new"), offset: 4)]) == [.rescheduled])
        let back = try await finish(s, owners, [one("skipped")], at: now + 10) { $0.markSkipped($1, next: now + 1_000) }
        #expect(back.flatMap(\.claimed).map(\.id) == ["skipped \(now)"])
        #expect(try await s.status(of: "skipped", nowMillis: now).series?.published == false)
        // twice: published, then rescheduled twice to the same due: the published mark survives both.
        #expect(try await base.store(s, [base.entry(.rescheduleSeries, series("twice", first: now), offset: 5)]) == [.rescheduled])
        _ = try await finish(s, owners, [one("twice")], at: now + 10)
        #expect(try await base.store(s, [base.entry(.rescheduleSeries, series("twice", first: now, value: "newer"), offset: 6)]) == [.rescheduled])
        let twice = try await s.status(of: "twice", nowMillis: now)
        #expect(twice.series?.published == true && twice.series?.fired == 1, "\(String(describing: twice.series))")
        // Each state written took a new generation of its shard's counter: the two reschedules of
        // twice have two more than its schedule had.
        #expect((twice.series?.generation ?? 0) >= 3)
    }
}
