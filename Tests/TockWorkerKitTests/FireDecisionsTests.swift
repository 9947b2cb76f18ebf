import Testing
import TockCore
import TockKafka
import TockStore

@testable import TockWorkerKit

@Suite("The fire path's decisions: lease arithmetic, lock plans, rate-limit plans, publish admission, hand-back outcomes, read-back")
struct FireDecisionsTests {
    @Test("lease terms: the default lease of 3 s, and for any lease the producer's timeout fits in what a renewed lock surely has left")
    func leaseTerms() {
        var delivery = TockConfiguration().delivery
        delivery.leaseTimeoutMillis = 3_000
        let terms = LeaseTerms(delivery)
        #expect(terms.knownLeaseMillis == 2_500 && terms.renewIntervalMillis == 1_000 && terms.producerTimeoutMillis == 1_200)
        #expect(terms.stallThresholdMillis == 1_000 && terms.ownGraceMillis == 6_000)
        #expect(terms.unsentGraceMillis == 3_000 && terms.sentGraceMillis == 63_000)
        for lease in [Int64(3_000), 5_000, 10_000, 30_000, 120_000] {
            delivery.leaseTimeoutMillis = lease
            let terms = LeaseTerms(delivery)
            #expect(terms.knownLeaseMillis < lease)
            #expect(terms.producerTimeoutMillis + terms.renewIntervalMillis + 300 <= terms.knownLeaseMillis, "lease \(lease)")
        }
    }

    @Test("a lock plan splits a fired batch by shard and leaves out shards not owned")
    func lockPlanSplit() {
        let parts = FireParts(owned: [0: ShardOwnership(worker: "w", epoch: 1)])
        let (a, b, c) = (parts.id(in: 0, 1), parts.id(in: 0, 2), parts.id(in: 1, 3))
        let plan = LockPlan([(a, 10), (c, 11), (b, 12)], owners: parts.state.ownerships, shardMap: parts.store.shardMap)
        #expect(plan.notOwned == 1)
        #expect(plan.byShard.keys.sorted() == [0] && plan.byShard[0]!.map(\.id) == [a, b] && plan.byShard[0]!.map(\.fireMillis) == [10, 12])
    }

    @Test("a lock plan sorts begin's replies: locked, skipped, fenced, and failed shards' entries to retry")
    func lockPlanReplies() {
        let owners = (0..<3).reduce(into: [Int: ShardOwnership]()) { $0[$1] = ShardOwnership(worker: "w", epoch: 1) }
        let parts = FireParts(owned: owners)
        let ids = (0..<3).map { parts.id(in: $0, $0) } + [parts.id(in: 0, 9)]
        let plan = LockPlan(ids.map { ($0, 5) }, owners: owners, shardMap: parts.store.shardMap)
        let replies = plan.sort([
            0: .success([lockedDelivery(ids[0], shard: 0, due: 5)]),
            1: .failure(.fenced(shard: 1, detail: "epoch 2")),
            2: .failure(.corrupt("down")),
        ])
        #expect(replies.locked.map(\.entry) == [ids[0]] && replies.skipped == 1)
        #expect(replies.fenced.map(\.shard) == [1] && replies.failed.map(\.shard) == [2])
        #expect(replies.retry.map(\.id) == [ids[2]])
        #expect(Set(plan.all.map(\.id)) == Set(ids))
    }

    @Test("a rate-limit plan groups limited topics in publish order; slots become publish times or requeues")
    func rateLimitPlan() {
        let limits = RateLimits(["slow.*": 2])
        let deliveries = [
            lockedDelivery("b", due: 20, topic: "slow.a"), lockedDelivery("free", due: 5, topic: "fast"),
            lockedDelivery("a", due: 10, topic: "slow.a"),
            lockedDelivery("c", due: 15, topic: "slow.b"),
        ]
        let plan = RateLimitPlan(deliveries, limits: limits)
        #expect(plan.topics.keys.sorted() == ["slow.a", "slow.b"])
        #expect(plan.topics["slow.a"]!.deliveries.map(\.entry) == ["a", "b"] && plan.topics["slow.a"]!.dueTimes == [10, 20])
        let assignment = RateLimitPlan.assign(
            RateSlots(backlog: 3, slots: [.publish(atMillis: 10), .later(atMillis: 1_020)]), to: plan.topics["slow.a"]!)
        #expect(assignment == RateLimitPlan.Assignment(slots: ["a": 10], later: ["b": 1_020]))
        #expect(RateLimitPlan(deliveries, limits: RateLimits([String: Int]())).topics.isEmpty)
    }

    @Test("publish admission: a record goes out within its slot's guard and while its lease covers the producer's timeout")
    func publishAdmission() {
        let t0 = ContinuousClock.now
        var held = HeldLocks()
        let onTime = lockedDelivery("on-time", lock: "l:1", due: 100)
        let lateForSlot = lockedDelivery("late-for-slot", lock: "l:1", due: 100)
        let shortLease = lockedDelivery("short-lease", lock: "l:2", due: 100)
        held.hold([onTime, lateForSlot], validUntil: t0 + .seconds(3), lockedMillis: 0, publishMillis: PublishSlices.publishMillis)
        held.hold([shortLease], validUntil: t0 + .milliseconds(500), lockedMillis: 0, publishMillis: PublishSlices.publishMillis)
        let members = [onTime, lateForSlot, shortLease]
        let admission = PublishAdmission(
            members, notBefore: ["late-for-slot": 100 - RateSlots.guardMillis - 1, "on-time": 100], nowMillis: 100, now: t0,
            producerTimeout: .milliseconds(1_200), held: &held)
        #expect(admission.inSlot == [true, false, true])
        #expect(admission.holds == [true, false, false])
        #expect(admission.enqueueBy == t0 + .milliseconds(500) - .milliseconds(1_200))
        let outcomes = admission.outcomes(members, reports: [.success(KafkaDeliveryReport(topic: "t", partition: 0, offset: 7, timestamp: nil))])
        #expect(outcomes.map { "\($0.1)".prefix(while: { $0 != "(" }) } == ["reported", "missedSlot", "leaseRanOut"])
        #expect(held.takeForSending([onTime], sentBy: t0) == [true], "an admitted delivery is still held, now as sent")
    }

    @Test("hand-back outcomes: pending ones go back uncounted, sent ones as a new attempt, settled ones get none")
    func overdueOutcomes() {
        let policy = DeliveryPolicy(TockConfiguration().delivery)
        let overdue = [
            HeldLocks.Overdue(
                lock: "l:1", shard: 0, deliveries: [lockedDelivery("p", attempt: 2)], progress: .pending, overdueMillis: 1, stage: .locked),
            HeldLocks.Overdue(
                lock: "l:1", shard: 0, deliveries: [lockedDelivery("s", attempt: 2)], progress: .sent, overdueMillis: 1, stage: .publishing),
            HeldLocks.Overdue(lock: "l:2", shard: 1, deliveries: [lockedDelivery("d")], progress: .settled, overdueMillis: 1, stage: .recording),
        ]
        var random = SystemRandomNumberGenerator()
        let outcomes = OverdueOutcomes.outcomes(for: overdue, nowMillis: 1_000, policy: policy, using: &random)
        #expect(outcomes.map(\.lock) == ["l:1"])
        #expect(outcomes[0].retries.map(\.id) == ["p", "s"] && outcomes[0].retries.map(\.attempt) == [1, 2])
        #expect(outcomes[0].retries.allSatisfy { $0.nextMillis >= 1_000 && $0.nextMillis <= 1_000 + policy.backoffCeilingMillis(attempt: 2) })
    }

    @Test("read-back: found is delivered, a failed read-back fails what it looked for, the rest is published")
    func readBackResolve() {
        let first = lockedDelivery("first", attempt: 1)
        let found = lockedDelivery("found", attempt: 2)
        let missing = lockedDelivery("missing", attempt: 3)
        let readBack = ReadBack([first, found, missing], partitions: ["first": 0, "found": 0, "missing": 1], skewMillis: 0)
        let resolved = readBack.resolve([first, found, missing], found: ["found"], failure: nil)
        #expect(resolved.publish.map(\.entry) == ["first", "missing"])
        #expect(resolved.settled.map(\.delivery.entry) == ["found"] && resolved.settled[0].outcome == .delivered)
        let failed = readBack.resolve([first, found, missing], found: [], failure: .notAttempted(detail: "read-back: timeout"))
        #expect(failed.publish.map(\.entry) == ["first"] && failed.settled.map(\.delivery.entry) == ["found", "missing"])
        #expect(failed.settled.allSatisfy { $0.outcome == .notAttempted(detail: "read-back: timeout") })
    }
}
