import Logging
import TockCore
import TockStore

/// Takes publish slots for the records of rate-limited topics, in due order, one Redis call per
/// topic (`RateLimitPlan`); records with no slot within `horizonMillis` are queued again.
struct RateLimiter: Sendable {
    /// How far ahead a rate limit's slot may be for a record to wait for it here; a record without
    /// one goes back to the queue until about when its slot would come.
    static let horizonMillis: Int64 = 1_000

    let context: FireContext
    let store: any DeliveryStore
    let leases: LeaseKeeper

    /// Leaves in `deliveries` only those to publish now, settling the others; returns the slots'
    /// times by entry. Unlimited topics are not touched.
    func reserve(_ deliveries: inout [LockedDelivery], settlement: inout DeliverySettlement) async -> [String: Int64] {
        let plan = RateLimitPlan(deliveries, limits: context.configuration.output.rateLimits)
        guard !plan.topics.isEmpty else { return [:] }
        leases.held.withLock { $0.enter(.rateSlots, deliveries) }
        var slots: [String: Int64] = [:]
        var requeued: Set<String> = []
        var random = SystemRandomNumberGenerator()
        for (name, topic) in plan.topics {
            let now = context.clock.nowMillis()
            let reserved: RateSlots
            do {
                reserved = try await store.reserveSlots(
                    topic: name, perSecond: topic.limit.perSecond, periodMillis: RateSlots.defaultPeriodMillis, nowMillis: now,
                    horizonMillis: Self.horizonMillis, dueTimes: topic.dueTimes)
            } catch {
                context.redisFailed("rate limit slots failed; those deliveries are retried", error: error, metadata: ["topic": "\(name)"])
                for delivery in topic.deliveries {
                    _ = settlement.record(delivery, .notAttempted(detail: "rate limit: \(error)"), nowMillis: now, using: &random)
                    requeued.insert(delivery.entry)
                }
                continue
            }
            let assignment = RateLimitPlan.assign(reserved, to: topic)
            let glob = topic.limit.glob
            for delivery in topic.deliveries {
                if let at = assignment.slots[delivery.entry] {
                    slots[delivery.entry] = at
                    context.metrics.rateLimitDelay[glob]?.recordMilliseconds(max(0, at - PublishSlices.publishMillis(delivery)))
                } else if let at = assignment.later[delivery.entry] {
                    settlement.requeue(delivery, atMillis: at)
                    requeued.insert(delivery.entry)
                }
            }
            context.metrics.rateLimitWaiting[glob]?.record(reserved.backlog + topic.deliveries.count)
            context.metrics.rateLimitRequeued[glob]?.increment(by: assignment.later.count)
        }
        if !requeued.isEmpty { deliveries.removeAll { requeued.contains($0.entry) } }
        return slots
    }
}
