import Testing
import TockCore
import TockStore

extension ScheduleStoreTests {
    @Test("a delivery its holder gave up is not touched by a late outcome of the attempt it gave up")
    func lateOutcomeOfAGivenUpDelivery() async throws {
        let (s, owners) = try await claimedStore([message("x", due: now), message("y", due: now)], horizon: now + 1_000)
        let first = try await s.begin([0: [("x", now), ("y", now)]], as: owners, token: "w", dueBy: now, leaseUntil: now + 30_000)
        let deliveries = try first[0]!.get()
        let x = try #require(deliveries.first { $0.message.id == "x" })
        let y = try #require(deliveries.first { $0.message.id == "y" })
        // The watchdog gives x up, unsent: it goes back to the queue with its attempt uncounted.
        var givenUp = LockOutcome(shard: 0, lock: x.lock)
        givenUp.markRetry(x, atMillis: now + 10, counted: false)
        let handedBack = try await s.finish([givenUp], as: owners, nowMillis: now + 5)
        #expect(handedBack[0].held && handedBack[0].claimed.map(\.id) == ["x"])
        // Locked again, by this worker or another.
        let second = try await s.begin([0: [("x", now + 10)]], as: owners, token: "w", dueBy: now + 10, leaseUntil: now + 30_000)
        let again = try #require(try second[0]!.get().first)
        #expect(again.attempt == 1 && again.lock != x.lock)
        // The attempt given up reports late, as published or as failed: neither counts any more.
        #expect(try await finishDone(s, [x], at: now + 20))
        var lateRetry = LockOutcome(shard: 0, lock: x.lock)
        lateRetry.markRetry(x, atMillis: now + 30)
        #expect(try await s.finish([lateRetry], as: owners, nowMillis: now + 20)[0].held)
        let status = try await s.status(of: "x", nowMillis: now + 21)
        #expect(status.state == .delivering && status.message != nil)
        // What the first lock still covers is recorded as usual, and the new lock finishes x.
        #expect(try await finishDone(s, [y], at: now + 22))
        #expect(try await s.status(of: "y", nowMillis: now + 23).state == .ended)
        #expect(try await finishDone(s, [again], at: now + 24))
        #expect(try await s.status(of: "x", nowMillis: now + 25).state == .ended)
    }
}
