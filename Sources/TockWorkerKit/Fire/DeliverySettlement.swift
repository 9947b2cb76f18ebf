import TockCore
import TockStore

/// What becomes of one locked batch, decided without side effects: which deliveries are
/// published and which go straight to the dead-letter topic, then, from the broker's answers and
/// the dead-letter results, each lock's outcome for `ScheduleStore.finish`. `FireService`
/// publishes and records; this decides.
struct DeliverySettlement {
    enum Decision: Equatable {
        case delivered
        case retry(atMillis: Int64)
        case deadLetter(DeadLetter)
    }

    let policy: DeliveryPolicy
    /// Deliveries to publish.
    private(set) var toPublish: [LockedDelivery] = []
    /// Deliveries for the dead-letter topic, with the reason.
    private(set) var deadLetters: [(delivery: LockedDelivery, letter: DeadLetter)] = []
    /// Series occurrences not published: missed ones `tock-catchup` passes over, ones published
    /// already under the series' id (a reschedule came in between), ones a replaced definition
    /// placed, and ones past a `tock-count` a reschedule carried over.
    private(set) var skipped: [LockedDelivery] = []
    /// Occurrences of series whose definition no longer reads here (a tz database without their
    /// zone): not published, and tried again in a minute, so the series is neither ended nor lost.
    private(set) var unreadable: [LockedDelivery] = []
    private var outcomes: [String: LockOutcome] = [:]
    private var lockOrder: [String] = []

    /// `missedAfterMillis`: `series.missedAfter`, for occurrences first got to at `nowMillis`.
    init(_ deliveries: [LockedDelivery], policy: DeliveryPolicy, nowMillis: Int64 = 0, missedAfterMillis: Int64 = 1_000) {
        self.policy = policy
        for delivery in deliveries {
            if let series = delivery.series, series.recurrence == nil {
                unreadable.append(delivery)
                change(delivery) { $0.markRetry(delivery, atMillis: nowMillis + 60_000, counted: false) }
            } else if let series = delivery.series, let next = Self.skip(delivery, series, nowMillis: nowMillis, missedAfterMillis: missedAfterMillis)
            {
                skipped.append(delivery)
                change(delivery) { $0.markSkipped(delivery, next: next) }
            } else if let reserved = ReservedTopics.prefix(of: delivery.message.topic) {
                // Only a message stored before the parser refused this prefix gets here.
                deadLetters.append(
                    (
                        delivery,
                        DeadLetter(
                            code: .topicNotAllowed,
                            detail: "tock-topic \"\(delivery.message.topic)\" is reserved: \(reserved.reason).")
                    ))
            } else if let letter = policy.deadLetterBeforePublishing(attempt: delivery.attempt) {
                deadLetters.append((delivery, letter))
            } else {
                toPublish.append(delivery)
            }
        }
    }

    /// Where the series goes on when this occurrence is not to be published (`.some(nil)`: it ends);
    /// nil when it is published (`Recurrence.settle`): one published already under the series' id,
    /// or not an occurrence of the current definition, only advances; a used-up count ends the
    /// series. Catch-up applies only to an occurrence fired at its own due time, for the first time:
    /// a retry, or an occurrence queued again for a rate limit's slot, is late for another reason,
    /// and one whose worker died mid-delivery may be in Kafka already.
    private static func skip(_ delivery: LockedDelivery, _ series: SeriesProgress, nowMillis: Int64, missedAfterMillis: Int64) -> Int64?? {
        guard let recurrence = series.recurrence else { return nil }
        let state = series.state
        let firstTry = delivery.attempt == 1 && delivery.fireMillis == state.dueMillis
        switch recurrence.settle(
            state.dueMillis, fired: state.fired, publishedThrough: state.publishedThrough, firstTry: firstTry, nowMillis: nowMillis,
            missedAfterMillis: missedAfterMillis)
        {
        case .fire: return nil
        case .moveTo(let next): return .some(next)
        case .end: return .some(nil)
        }
    }

    /// Records how publishing `delivery` ended at `nowMillis`; `random` draws a retry's jitter.
    mutating func record<Random: RandomNumberGenerator>(
        _ delivery: LockedDelivery, _ outcome: DeliveryOutcome, nowMillis: Int64,
        using random: inout Random
    ) -> Decision {
        switch policy.decide(attempt: delivery.attempt, outcome: outcome, nowMillis: nowMillis, using: &random) {
        case .complete:
            change(delivery) { $0.markDone(delivery) }
            return .delivered
        case .retry(let next):
            change(delivery) { $0.markRetry(delivery, atMillis: next) }
            return .retry(atMillis: next)
        case .retryUncounted(let next):
            change(delivery) { $0.markRetry(delivery, atMillis: next, counted: false) }
            return .retry(atMillis: next)
        case .deadLetter(let letter):
            deadLetters.append((delivery, letter))
            return .deadLetter(letter)
        }
    }

    /// Not published now, and queued again for `atMillis` without counting an attempt (a rate
    /// limit has no slot for it sooner).
    mutating func requeue(_ delivery: LockedDelivery, atMillis: Int64) {
        change(delivery) { $0.markRetry(delivery, atMillis: atMillis, counted: false) }
    }

    /// Once the dead-letter topic answered: the ids it took are done; the others stay locked, so
    /// their lease runs out and they are tried again.
    mutating func settleDeadLetters(published: Set<String>) {
        for (delivery, _) in deadLetters {
            if published.contains(delivery.message.id) {
                change(delivery) { $0.markDone(delivery) }
            } else {
                change(delivery) { $0.markKept(delivery) }
            }
        }
    }

    /// One outcome per lock, in the order the locks were first seen.
    var lockOutcomes: [LockOutcome] { lockOrder.map { outcomes[$0]! } }

    private mutating func change(_ delivery: LockedDelivery, _ body: (inout LockOutcome) -> Void) {
        if outcomes[delivery.lock] == nil {
            outcomes[delivery.lock] = LockOutcome(shard: delivery.shard, lock: delivery.lock)
            lockOrder.append(delivery.lock)
        }
        body(&outcomes[delivery.lock]!)
    }
}
