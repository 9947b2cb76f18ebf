import Testing
import TockCore
import TockKafka
import TockStore

@testable import TockWorkerKit

/// A generator that always draws the same value, so retry times are known.
private struct FixedRandom: RandomNumberGenerator {
    var value: UInt64
    mutating func next() -> UInt64 { value }
}

@Suite("Delivery settlement: what becomes of a locked batch")
struct DeliverySettlementTests {
    let policy = DeliveryPolicy(maxAttempts: 3, backoffInitialMillis: 1_000, backoffMaxMillis: 60_000)
    let now: Int64 = 1_700_000_000_000

    func delivery(_ id: String, lock: String = "t:1", shard: Int = 0, attempt: Int = 1, topic: String = "orders", given: Bool = true)
        -> LockedDelivery
    {
        var message = ScheduledMessage(id: id, idWasGiven: given, dueMillis: now, topic: topic, key: nil, value: [1], headers: [])
        message.storedMillis = now - 1_000
        return LockedDelivery(shard: shard, lock: lock, fireMillis: now, attempt: attempt, message: message)
    }

    @Test("a reserved topic and an attempt past the limit go to the dead-letter topic unpublished")
    func admission() {
        let settlement = DeliverySettlement([delivery("a"), delivery("b", topic: "tock.internal"), delivery("c", attempt: 4)], policy: policy)
        #expect(settlement.toPublish.map(\.message.id) == ["a"])
        #expect(settlement.deadLetters.map(\.delivery.message.id) == ["b", "c"])
        #expect(settlement.deadLetters.map(\.letter.code) == [.topicNotAllowed, .deliveryFailed])
    }

    @Test("delivered messages are done, failed ones retried within the backoff, rejected ones dead-lettered")
    func outcomes() {
        var settlement = DeliverySettlement([delivery("a"), delivery("b"), delivery("c")], policy: policy)
        var random = FixedRandom(value: UInt64.max)
        #expect(settlement.record(delivery("a"), .delivered, nowMillis: now, using: &random) == .delivered)
        guard case .retry(let next) = settlement.record(delivery("b"), .failed(detail: "timed out"), nowMillis: now, using: &random) else {
            Issue.record("expected a retry")
            return
        }
        #expect(next > now && next <= now + 1_000)
        #expect(
            settlement.record(delivery("c"), .rejected(detail: "too large"), nowMillis: now, using: &random)
                == .deadLetter(DeadLetter(code: .deliveryRejected, detail: "too large")))
        settlement.settleDeadLetters(published: ["c"])
        let outcomes = settlement.lockOutcomes
        #expect(outcomes.count == 1)
        #expect(outcomes[0].done.map(\.id) == ["a", "c"])
        #expect(outcomes[0].retries.map(\.id) == ["b"])
        #expect(outcomes[0].retries.first?.nextMillis == next)
        #expect(outcomes[0].kept.isEmpty)
    }

    @Test("the last attempt's failure is dead-lettered; one the dead-letter topic did not take stays locked")
    func lastAttempt() {
        var settlement = DeliverySettlement([delivery("a", attempt: 3)], policy: policy)
        var random = SystemRandomNumberGenerator()
        #expect(
            settlement.record(delivery("a", attempt: 3), .failed(detail: "down"), nowMillis: now, using: &random)
                == .deadLetter(DeadLetter(code: .deliveryFailed, detail: "down")))
        settlement.settleDeadLetters(published: [])
        #expect(settlement.lockOutcomes.map(\.kept) == [["a"]])
        #expect(settlement.lockOutcomes.map(\.done.count) == [0])
    }

    @Test(
        "an attempt that never happened (withheld, unsent, or not checked against an earlier one) is tried again as the same attempt, even the last")
    func notAttempted() {
        var settlement = DeliverySettlement([delivery("a", attempt: 3), delivery("b", attempt: 2)], policy: policy)
        var random = FixedRandom(value: UInt64.max)
        guard
            case .retry(let next) = settlement.record(
                delivery("a", attempt: 3), .notAttempted(detail: "read-back: timed out"),
                nowMillis: now, using: &random)
        else {
            Issue.record("expected a retry, not a dead letter")
            return
        }
        #expect(next > now)
        _ = settlement.record(delivery("b", attempt: 2), .notAttempted(detail: "withheld"), nowMillis: now, using: &random)
        // Attempts made so far: the next lock numbers them 3 and 2 again.
        #expect(settlement.lockOutcomes.first?.retries.map(\.attempt) == [2, 1])
        #expect(settlement.deadLetters.isEmpty)
    }

    @Test("a record purged from the producer's queue was never sent: not an attempt")
    func purgedIsNotAttempted() {
        let purged = DeliveryOutcome(Result<KafkaDeliveryReport, KafkaError>.failure(KafkaError(code: .purgedQueued, message: "withheld")))
        #expect(purged == .notAttempted(detail: "\(KafkaError(code: .purgedQueued, message: "withheld"))"))
        // Purged after a request that may have written it: a failed attempt, read back next time.
        var sent = KafkaError(code: .purgedQueued, message: "purged after a failed request")
        sent.mayBePersisted = true
        #expect(DeliveryOutcome(Result<KafkaDeliveryReport, KafkaError>.failure(sent)) == .failed(detail: "\(sent)"))
        let timedOut = DeliveryOutcome(Result<KafkaDeliveryReport, KafkaError>.failure(KafkaError(code: .messageTimedOut, message: "late")))
        #expect(timedOut == .failed(detail: "\(KafkaError(code: .messageTimedOut, message: "late"))"))
    }

    @Test("one outcome per lock, in the order the locks came, each with its shard")
    func perLock() {
        let batch = [delivery("a", lock: "t:1", shard: 1), delivery("b", lock: "t:2", shard: 2), delivery("c", lock: "t:1", shard: 1)]
        var settlement = DeliverySettlement(batch, policy: policy)
        var random = SystemRandomNumberGenerator()
        for item in batch { _ = settlement.record(item, .delivered, nowMillis: now, using: &random) }
        #expect(settlement.lockOutcomes.map(\.lock) == ["t:1", "t:2"])
        #expect(settlement.lockOutcomes.map(\.shard) == [1, 2])
        #expect(settlement.lockOutcomes.map { $0.done.map(\.id) } == [["a", "c"], ["b"]])
    }

    @Test("a done message keeps its store time, so finish knows whether its tombstone lasts; a default id has none")
    func tombstones() {
        var settlement = DeliverySettlement([delivery("a"), delivery("b", given: false)], policy: policy)
        var random = SystemRandomNumberGenerator()
        _ = settlement.record(delivery("a"), .delivered, nowMillis: now, using: &random)
        _ = settlement.record(delivery("b", given: false), .delivered, nowMillis: now, using: &random)
        let done = settlement.lockOutcomes[0].done
        #expect(done[0].tombstone == Tombstone(id: "a") && done[0].storedMillis == now - 1_000)
        #expect(done[1].tombstone == nil)
    }
    /// `mark`: the stored state's fourth part (the published-through time, or the older `A`).
    func occurrence(
        _ series: String, due: Int64, fired: Int = 0, attempt: Int = 1, catchup: Recurrence.Catchup, mark: String? = nil,
        count: Int? = nil, start: Int64? = nil
    ) -> LockedDelivery {
        let definition = SeriesDefinition(
            cron: nil, everyMillis: 1_000, startMillis: start ?? (due - 10_000), count: count, catchup: catchup)
        var message = ScheduledMessage(
            id: "\(series)@\(due)", idWasGiven: true, dueMillis: due, topic: "orders", key: nil, value: [1], headers: [],
            series: definition)
        message.storedMillis = now - 20_000
        let state = SeriesState(stored: "\(due):\(fired):0\(mark.map { ":\($0)" } ?? "")")!
        return LockedDelivery(
            shard: 0, lock: "t:1", fireMillis: due, attempt: attempt, message: message, entry: "\(series) \(due)",
            series: SeriesProgress(id: series, state: state, definition: definition))
    }

    @Test("a missed occurrence: all publishes it, latest moves to the newest due, none to the first not missed; a retry is never skipped")
    func catchUp() {
        let late = now - 5_000  // 5 s late, with four later occurrences due by now
        let settlement = DeliverySettlement(
            [
                occurrence("all", due: late, catchup: .all), occurrence("latest", due: late, catchup: .latest),
                occurrence("none", due: late, catchup: .none), occurrence("retried", due: late, attempt: 2, catchup: .none),
                occurrence("onTime", due: now - 20, catchup: .none),
            ], policy: policy, nowMillis: now, missedAfterMillis: 1_000)
        #expect(settlement.toPublish.map(\.entry) == ["all \(late)", "retried \(late)", "onTime \(now - 20)"])
        #expect(settlement.skipped.map(\.entry) == ["latest \(late)", "none \(late)"])
        let steps = settlement.lockOutcomes.flatMap(\.steps)
        #expect(steps.map(\.nextMillis) == [now, now - 1_000])
        #expect(steps.allSatisfy { !$0.published && $0.expected == "\($0.entry.split(separator: " ")[1]):0:0" })
    }

    @Test("a published occurrence moves its series on by one, counting it; the last one ends it with its tombstone")
    func publishedOccurrence() {
        var settlement = DeliverySettlement(
            [occurrence("a", due: now, fired: 1, catchup: .all), occurrence("b", due: now, fired: 2, catchup: .all, count: 3)],
            policy: policy, nowMillis: now)
        var random = FixedRandom(value: 0)
        for delivery in settlement.toPublish { _ = settlement.record(delivery, .delivered, nowMillis: now, using: &random) }
        let steps = settlement.lockOutcomes.flatMap(\.steps)
        #expect(steps.map(\.nextMillis) == [now + 1_000, nil])
        #expect(steps.allSatisfy { $0.published })
        #expect(steps.map { $0.tombstone != nil } == [true, true])
        #expect(settlement.lockOutcomes.flatMap(\.done).isEmpty)
    }

    @Test("an occurrence of a series whose definition no longer reads here is neither published nor ended: it is tried again in a minute")
    func unreadableDefinition() {
        var delivery = occurrence("a", due: now, catchup: .all)
        delivery.series = SeriesProgress(
            id: "a", state: delivery.series!.state,
            definition: SeriesDefinition(cron: "0 9 * * *", timeZone: "Mars/Olympus", everyMillis: nil, startMillis: now))
        let settlement = DeliverySettlement([delivery], policy: policy, nowMillis: now)
        #expect(settlement.toPublish.isEmpty && settlement.unreadable.count == 1 && settlement.skipped.isEmpty)
        #expect(settlement.lockOutcomes.flatMap(\.retries).map(\.nextMillis) == [now + 60_000])
        #expect(settlement.lockOutcomes.flatMap(\.steps).isEmpty)
    }

    @Test("an occurrence published before a reschedule landed on it only advances, by the definition it now has")
    func publishedBeforeReschedule() {
        let settlement = DeliverySettlement(
            [occurrence("a", due: now - 3_000, fired: 1, catchup: .all, mark: "A")], policy: policy, nowMillis: now)
        #expect(settlement.toPublish.isEmpty && settlement.skipped.count == 1)
        #expect(settlement.lockOutcomes.flatMap(\.steps).map(\.nextMillis) == [now - 2_000])
    }

    @Test(
        "issue 25 item 2: nothing at or before the published-through mark is published, a retry neither; a replaced definition's occurrence gives way; a carried count ends the series"
    )
    func publishedThrough() {
        let mark = now + 2_000
        let settlement = DeliverySettlement(
            [
                // A late reschedule's first occurrence, and a retry of one, both at or before the mark.
                occurrence("late", due: now, fired: 6, catchup: .all, mark: String(mark)),
                occurrence("retried", due: mark, fired: 6, attempt: 3, catchup: .all, mark: String(mark)),
                // Kept current while in flight; the new definition is on another phase and starts later.
                occurrence("moved", due: now, fired: 3, catchup: .all, mark: String(now - 1_000), start: now + 250),
                occurrence("used", due: now, fired: 10, catchup: .all, mark: String(now - 1_000), count: 10),
                occurrence("fresh", due: now, fired: 6, catchup: .all, mark: String(now - 1_000), count: 10),
            ], policy: policy, nowMillis: now)
        #expect(settlement.toPublish.map(\.entry) == ["fresh \(now)"])
        #expect(settlement.skipped.map(\.entry) == ["late \(now)", "retried \(mark)", "moved \(now)", "used \(now)"])
        let steps = settlement.lockOutcomes.flatMap(\.steps)
        #expect(steps.map(\.nextMillis) == [mark + 1_000, mark + 1_000, now + 250, nil])
        #expect(steps.allSatisfy { !$0.published })
    }
}

@Suite("Publish slices")
struct PublishSlicesTests {
    func delivery(_ id: String, fire: Int64, due: Int64? = nil) -> LockedDelivery {
        LockedDelivery(
            shard: 0, lock: "t:1", fireMillis: fire, attempt: 1,
            message: ScheduledMessage(id: id, idWasGiven: false, dueMillis: due ?? fire, topic: "t", key: nil, value: nil, headers: []))
    }

    @Test("a batch is cut into slices of publish time in order, none spanning more than the span")
    func slices() {
        let batch = [
            delivery("c", fire: 130), delivery("a", fire: 100), delivery("b", fire: 124), delivery("d", fire: 125),
            delivery("e", fire: 90, due: 160),
        ]
        let slices = PublishSlices.split(batch, spanMillis: 25)
        #expect(slices.map { $0.map(\.message.id) } == [["a", "b"], ["d", "c"], ["e"]])
        #expect(PublishSlices.split([], spanMillis: 25).isEmpty)
    }
}
