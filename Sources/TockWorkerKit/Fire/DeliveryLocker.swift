import Logging
import TockCore
import TockStore

/// Takes the delivery locks of the batches the wheel fires, `delivery.lockAhead` before they are
/// due, one `begin` call per batch (`LockPlan`).
struct DeliveryLocker: Sendable {
    let context: FireContext
    /// A store on connections of its own: a lock must not wait behind an ingest batch, a claim or
    /// an outcome.
    let store: any DeliveryStore
    let wheel: DeliveryWheel

    /// Returns the locked deliveries, and the entries that could not be locked now because Redis
    /// failed: they go back into the wheel shortly. Ones no longer claimed are dropped.
    func lock(_ batch: [DeliveryWheel.Entry]) async -> (locked: [LockedDelivery], retry: [LockPlan.Fired]) {
        let owners = context.state.ownerships
        let plan = LockPlan(batch.map { ($0.id, $0.dueMillis) }, owners: owners, shardMap: store.shardMap)
        context.metrics.firedSkipped.increment(by: plan.notOwned)
        guard !plan.isEmpty else { return ([], []) }
        let now = context.clock.nowMillis()
        let delivery = context.configuration.delivery
        do {
            let results = try await store.begin(
                plan.byShard, as: owners, token: context.state.token, dueBy: now + delivery.lockAheadMillis,
                leaseUntil: now + delivery.leaseTimeoutMillis)
            context.metrics.lockRoundTrip.recordMilliseconds(context.clock.nowMillis() - now)
            let replies = plan.sort(results)
            context.metrics.firedSkipped.increment(by: replies.skipped)
            for (shard, detail) in replies.fenced { context.lostShard(shard, detail: detail, wheel: wheel) }
            for (shard, error) in replies.failed { context.redisFailed("delivery lock failed", error: error, metadata: ["shard": "\(shard)"]) }
            return (replies.locked, replies.retry)
        } catch {
            context.redisFailed("delivery lock failed", error: error, unready: true)
            return ([], plan.all)
        }
    }
}
