import TockCore
import TockStore

/// What becomes of deliveries `HeldLocks.handBackOverdue` gave up: pending ones go back to the
/// queue as they were, sent ones (they may be in Kafka) as a new attempt, read back first; settled
/// ones (a dead letter, a skipped occurrence) get no outcome, so their lease runs out. Each goes
/// back at a random time within its backoff, so that what held them up is not met again all at once.
enum OverdueOutcomes {
    static func outcomes<Random: RandomNumberGenerator>(
        for overdue: [HeldLocks.Overdue], nowMillis: Int64, policy: DeliveryPolicy, using random: inout Random
    ) -> [LockOutcome] {
        var outcomes: [String: LockOutcome] = [:]
        for given in overdue where given.progress != .settled {
            var outcome = outcomes[given.lock] ?? LockOutcome(shard: given.shard, lock: given.lock)
            for delivery in given.deliveries {
                let next = nowMillis + Int64.random(in: 0...policy.backoffCeilingMillis(attempt: delivery.attempt), using: &random)
                outcome.markRetry(delivery, atMillis: next, counted: given.progress == .sent)
            }
            outcomes[given.lock] = outcome
        }
        return outcomes.keys.sorted().map { outcomes[$0]! }
    }
}
