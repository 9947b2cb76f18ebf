import TockKafka
import TockStore

/// Which records of one publish-gate job go to the producer at the instant the gate runs it, and
/// what became of each afterwards. A record of a rate-limited topic goes out within the guard
/// after its slot, or not now (stamped later, it could share a second with the slots after it).
/// A record whose lock's lease this worker can no longer vouch for until the producer's timeout
/// has passed (it stalled, or gave the delivery up) stays here: the lock may be another worker's
/// by now.
struct PublishAdmission {
    /// Per member: within its rate-limit slot's guard (always, for an unlimited topic).
    let inSlot: [Bool]
    /// Per member: handed to the producer.
    let holds: [Bool]
    /// Until when records the producer's queue kept back may still be enqueued: while the
    /// shortest lease known covers the producer's timeout.
    let enqueueBy: ContinuousClock.Instant?

    /// Decides at `nowMillis` (the reference clock) and `now` (monotonic), marking the admitted
    /// deliveries sent in `held`.
    init(
        _ members: [LockedDelivery], notBefore: [String: Int64], nowMillis: Int64, now: ContinuousClock.Instant, producerTimeout: Duration,
        held: inout HeldLocks
    ) {
        let inSlot = members.map { notBefore[$0.entry].map { nowMillis < $0 + RateSlots.guardMillis } ?? true }
        let onTime = zip(members, inSlot).filter(\.1).map(\.0)
        var taken = held.takeForSending(onTime, sentBy: now + producerTimeout).makeIterator()
        self.inSlot = inSlot
        holds = inSlot.map { $0 && taken.next()! }
        enqueueBy = members.compactMap { held.validUntil($0.lock) }.min().map { $0 - producerTimeout }
    }

    enum Outcome {
        case reported(Result<KafkaDeliveryReport, KafkaError>)
        /// Not published: the worker was late for its rate-limit slot.
        case missedSlot
        /// Not published: its lock's lease ran out first (the worker stalled).
        case leaseRanOut

        var result: Result<KafkaDeliveryReport, KafkaError> {
            switch self {
            case .reported(let result): result
            case .missedSlot: .failure(KafkaError(code: .purgedQueued, message: "it missed its rate-limit slot (the worker was late)"))
            case .leaseRanOut:
                .failure(KafkaError(code: .purgedQueued, message: "its delivery lock's lease ran out before it was published (the worker stalled)"))
            }
        }
    }

    /// Each member's outcome, given the reports of the records handed over, in order.
    func outcomes(_ members: [LockedDelivery], reports: [Result<KafkaDeliveryReport, KafkaError>]) -> [(LockedDelivery, Outcome)] {
        var reports = reports.makeIterator()
        return zip(members, zip(holds, inSlot)).map { delivery, admitted in
            if admitted.0, let report = reports.next() { return (delivery, .reported(report)) }
            return (delivery, admitted.1 ? .leaseRanOut : .missedSlot)
        }
    }
}
