import Testing
import TockCore
import TockStore

@testable import TockWorkerKit

@Suite("Held delivery locks and their watchdog")
struct HeldLocksTests {
    /// A delivery `entry` under `lock`, due at `due` (epoch ms).
    func delivery(_ entry: String, lock: String, shard: Int = 0, due: Int64 = 0, attempt: Int = 1) -> LockedDelivery {
        LockedDelivery(
            shard: shard, lock: lock, fireMillis: due, attempt: attempt,
            message: ScheduledMessage(id: entry, idWasGiven: true, dueMillis: due, topic: "t", key: nil, value: nil, headers: []))
    }

    let t0 = ContinuousClock.now

    func holding(_ deliveries: [LockedDelivery], lockedMillis: Int64 = 0, validUntil: ContinuousClock.Instant? = nil) -> HeldLocks {
        var held = HeldLocks()
        held.hold(deliveries, validUntil: validUntil ?? t0 + .seconds(3), lockedMillis: lockedMillis, publishMillis: PublishSlices.publishMillis)
        return held
    }

    @Test("locks are renewed per shard while held, and not after they are released")
    func holdAndRelease() {
        var held = holding([delivery("a", lock: "x:1", shard: 1), delivery("b", lock: "x:2", shard: 1), delivery("c", lock: "x:3", shard: 2)])
        #expect(held.renewal == [1: ["x:1", "x:2"], 2: ["x:3"]])
        held.release([delivery("a", lock: "x:1", shard: 1), delivery("c", lock: "x:3", shard: 2)])
        #expect(held.renewal == [1: ["x:2"]])
        held.release([delivery("b", lock: "x:2", shard: 1)])
        #expect(held.isEmpty)
    }

    @Test("a lock finished in parts is renewed until its last delivery is released")
    func partial() {
        var held = holding([delivery("a", lock: "x:1", shard: 1), delivery("b", lock: "x:1", shard: 1), delivery("c", lock: "x:1", shard: 1)])
        held.release([delivery("a", lock: "x:1", shard: 1)])
        #expect(held.renewal == [1: ["x:1"]])
        held.release([delivery("b", lock: "x:1", shard: 1), delivery("c", lock: "x:1", shard: 1)])
        #expect(held.isEmpty)
        held.release([delivery("a", lock: "x:1", shard: 1)])
        #expect(held.isEmpty)
    }

    @Test("a lock's lease is known to hold until its begin or last full renewal plus the lease; never after it is released")
    func leaseValidity() {
        var held = holding([delivery("a", lock: "x:1", shard: 1), delivery("b", lock: "x:2", shard: 2)])
        #expect(held.holds("x:1", at: t0 + .seconds(2)))
        #expect(!held.holds("x:1", at: t0 + .seconds(3)))
        held.renewed([1: ["x:1"]], validUntil: t0 + .seconds(5))
        #expect(held.holds("x:1", at: t0 + .seconds(4)))
        #expect(!held.holds("x:2", at: t0 + .seconds(4)))
        // A renewal sent before a later one answers later: it never shortens the lease.
        held.renewed([1: ["x:1"]], validUntil: t0 + .seconds(4))
        #expect(held.holds("x:1", at: t0 + .milliseconds(4_500)))
        held.release([delivery("a", lock: "x:1", shard: 1)])
        #expect(!held.holds("x:1", at: t0))
        held.renewed([1: ["x:1"]], validUntil: t0 + .seconds(9))
        #expect(!held.holds("x:1", at: t0))
        #expect(!held.holds("unknown", at: t0))
    }

    @Test("a delivery may be sent only while its lease holds past the producer's timeout, and is then marked sent")
    func sending() {
        var held = holding([delivery("a", lock: "x:1"), delivery("b", lock: "x:1")])
        #expect(held.takeForSending([delivery("a", lock: "x:1")], sentBy: t0 + .seconds(4)) == [false])
        #expect(held.takeForSending([delivery("a", lock: "x:1"), delivery("z", lock: "x:9")], sentBy: t0 + .seconds(2)) == [true, false])
        // "a" was sent, "b" was not: past the lease, only "b" comes back unsent.
        let given = held.handBackOverdue(nowMillis: 3_001, unsentGraceMillis: 3_000, sentGraceMillis: 60_000)
        #expect(given.map(\.deliveries.count) == [1])
        #expect(given.first?.deliveries.first?.entry == "b")
        #expect(given.first?.progress == .pending)
        #expect(held.renewal == [0: ["x:1"]])
    }

    @Test("nothing is given up within the lease after the publish time, or after the lock for a delivery locked late")
    func notBeforeTheirTime() {
        var held = holding([delivery("a", lock: "x:1", due: 10_000), delivery("b", lock: "x:2", due: 1_000)], lockedMillis: 9_000)
        // x:2 was locked at 9 s for a delivery due at 1 s (a retry, a shard move): its time counts from the lock.
        #expect(held.handBackOverdue(nowMillis: 12_000, unsentGraceMillis: 3_000, sentGraceMillis: 60_000).isEmpty)
        #expect(held.oldestOverdueMillis(nowMillis: 12_000) == 3_000)
        let given = held.handBackOverdue(nowMillis: 12_001, unsentGraceMillis: 3_000, sentGraceMillis: 60_000)
        #expect(given.map(\.lock) == ["x:2"])
        #expect(given.first?.overdueMillis == 3_001)
        #expect(held.renewal == [0: ["x:1"]])
        #expect(held.oldestOverdueMillis(nowMillis: 12_001) == 2_001)
    }

    @Test("a lock given up is neither renewed nor published under, and its late release changes nothing")
    func givenUpForGood() {
        var held = holding([delivery("a", lock: "x:1"), delivery("b", lock: "x:1")])
        held.enter(.readBack, [delivery("a", lock: "x:1")])
        let given = held.handBackOverdue(nowMillis: 3_001, unsentGraceMillis: 3_000, sentGraceMillis: 60_000)
        #expect(given.map(\.stage) == [.readBack])
        #expect(given.map(\.progress) == [.pending])
        #expect(held.isEmpty)
        #expect(held.renewal.isEmpty)
        #expect(held.takeForSending([delivery("a", lock: "x:1")], sentBy: t0) == [false])
        held.release([delivery("a", lock: "x:1"), delivery("b", lock: "x:1")])
        #expect(held.isEmpty)
        #expect(held.handBackOverdue(nowMillis: 100_000, unsentGraceMillis: 3_000, sentGraceMillis: 60_000).isEmpty)
    }

    @Test("a sent delivery whose outcome never comes is given up only after the longer grace, as sent")
    func sentBackstop() {
        var held = holding([delivery("a", lock: "x:1"), delivery("b", lock: "x:1")])
        _ = held.takeForSending([delivery("a", lock: "x:1"), delivery("b", lock: "x:1")], sentBy: t0)
        #expect(held.handBackOverdue(nowMillis: 50_000, unsentGraceMillis: 3_000, sentGraceMillis: 63_000).isEmpty)
        let given = held.handBackOverdue(nowMillis: 63_001, unsentGraceMillis: 3_000, sentGraceMillis: 63_000)
        #expect(given.map(\.progress) == [.sent])
        #expect(given.first?.deliveries.map(\.entry) == ["a", "b"])
        #expect(held.isEmpty)
    }
}

extension HeldLocksTests {
    @Test("a delivery settled without being sent (its retry is being recorded) waits for the backstop, not the unsent grace, and is reported settled")
    func settledWaitsForBackstop() {
        var held = holding([delivery("a", lock: "x:1"), delivery("b", lock: "x:1"), delivery("c", lock: "x:1")])
        _ = held.takeForSending([delivery("a", lock: "x:1")], sentBy: t0)
        held.enter(.recording, [delivery("a", lock: "x:1"), delivery("b", lock: "x:1")])
        // "c" never got that far: only it comes back after the lease.
        let early = held.handBackOverdue(nowMillis: 3_001, unsentGraceMillis: 3_000, sentGraceMillis: 63_000)
        #expect(early.flatMap(\.deliveries).map(\.entry) == ["c"])
        let late = held.handBackOverdue(nowMillis: 63_001, unsentGraceMillis: 3_000, sentGraceMillis: 63_000)
        #expect(late.map(\.progress) == [.sent, .settled])
        #expect(late.map { $0.deliveries.map(\.entry) } == [["a"], ["b"]])
        #expect(held.isEmpty)
    }
}
