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
    private var outcomes: [String: LockOutcome] = [:]
    private var lockOrder: [String] = []

    init(_ deliveries: [LockedDelivery], policy: DeliveryPolicy) {
        self.policy = policy
        for delivery in deliveries {
            if let reserved = ReservedTopics.prefix(of: delivery.message.topic) {
                // Only a message stored before the parser refused this prefix gets here.
                deadLetters.append((delivery, DeadLetter(code: .topicNotAllowed,
                                                         detail: "tock-topic \"\(delivery.message.topic)\" is reserved: \(reserved.reason).")))
            } else if let letter = policy.deadLetterBeforePublishing(attempt: delivery.attempt) {
                deadLetters.append((delivery, letter))
            } else {
                toPublish.append(delivery)
            }
        }
    }

    /// Records how publishing `delivery` ended at `nowMillis`; `random` draws a retry's jitter.
    mutating func record<Random: RandomNumberGenerator>(_ delivery: LockedDelivery, _ outcome: DeliveryOutcome, nowMillis: Int64,
                                                        using random: inout Random) -> Decision {
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

    /// Once the dead-letter topic answered: the ids it took are done; the others stay locked, so
    /// their lease runs out and they are tried again.
    mutating func settleDeadLetters(published: Set<String>) {
        for (delivery, _) in deadLetters {
            if published.contains(delivery.message.id) { change(delivery) { $0.markDone(delivery) } } else { change(delivery) { $0.markKept(delivery) } }
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
