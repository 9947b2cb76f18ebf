import Logging
import Synchronization
import TockCore
import TockStore
import TockTiming

/// Keeps the delivery locks this worker holds alive while their deliveries are in progress, and
/// only then: it renews their leases every renewal interval, and gives back what is held past its
/// time (see `HeldLocks`), so a slow broker never lets another worker publish the same message
/// and a lock nobody publishes under runs out.
final class LeaseKeeper: Sendable {
    let context: FireContext
    let store: any DeliveryStore
    let recorder: OutcomeRecorder
    let held = Mutex(HeldLocks())
    /// Says when the process stood still (its delivery locks may have run out meanwhile). The
    /// records the producer already held then still go out when it runs again: failing them
    /// (`rd_kafka_purge`) makes the idempotent producer bump its epoch, which the local broker
    /// answers with PRODUCER_FENCED on every later record (docs/never-twice.md).
    private let watchdog: StallWatchdog

    init(context: FireContext, store: any DeliveryStore, recorder: OutcomeRecorder) {
        self.context = context
        self.store = store
        self.recorder = recorder
        watchdog = StallWatchdog(threshold: .milliseconds(context.leaseTerms.stallThresholdMillis)) { [context] gap in
            context.metrics.stalls.increment()
            context.logger.warning(
                "the process stood still; deliveries whose locks ran out meanwhile are not published here", metadata: ["stalled": "\(gap)"])
        }
    }

    var terms: LeaseTerms { context.leaseTerms }

    func stop() { watchdog.stop() }

    /// Renews every renewal interval until cancelled.
    func renewLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(terms.renewIntervalMillis))
            do { try await renewHeldLocks() } catch { context.redisFailed("renewing delivery locks failed", error: error) }
        }
    }

    /// Extends every delivery lock this worker holds by a lease period from now.
    func renewHeldLocks() async throws(StoreError) {
        let locks = held.withLock { $0.renewal }
        guard !locks.isEmpty else { return }
        let sent = ContinuousClock.now
        let renewed = try await store.renew(locks, leaseUntil: context.clock.nowMillis() + terms.leaseMillis)
        // Per shard: a shard whose master is down, or one of whose locks was reaped, extends none.
        let complete = locks.filter { renewed[$0.key] == $0.value.count }
        held.withLock { $0.renewed(complete, validUntil: sent + terms.knownLease) }
        let failed = locks.keys.filter { renewed[$0] == nil }
        if !failed.isEmpty { context.logger.warning("renewing delivery locks failed for some shards", metadata: ["shards": "\(failed.sorted())"]) }
    }

    /// Runs the hand-back every renewal interval, in a loop of its own: giving deliveries back may
    /// wait for Redis, and renewals must not wait behind it.
    func watchdogLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(terms.renewIntervalMillis))
            await handBackOverdue()
        }
    }

    /// Gives up, loudly, the deliveries held past their time (see `HeldLocks.handBackOverdue` and
    /// `OverdueOutcomes`). A lease is never renewed for a delivery nobody is publishing.
    func handBackOverdue() async {
        let now = context.clock.nowMillis()
        let (overdue, oldest) = held.withLock { held in
            (
                held.handBackOverdue(nowMillis: now, unsentGraceMillis: terms.unsentGraceMillis, sentGraceMillis: terms.sentGraceMillis),
                held.oldestOverdueMillis(nowMillis: now)
            )
        }
        context.metrics.oldestHeldDelivery.record(Double(oldest) / 1_000)
        guard !overdue.isEmpty else { return }
        for given in overdue {
            context.metrics.handedBack.increment(by: given.deliveries.count)
            context.logger.error(
                given.progress == .settled
                    ? "deliveries whose outcome was not recorded in time are given up; their lease runs out"
                    : "deliveries held past their time without an outcome go back to the queue",
                metadata: [
                    "lock": "\(given.lock)", "shard": "\(given.shard)", "stage": "\(given.stage.rawValue)", "overdueMs": "\(given.overdueMillis)",
                    "progress": "\(given.progress)", "deliveries": "\(given.deliveries.count)",
                    "ids": "\(given.deliveries.prefix(10).map(\.message.id))",
                ])
        }
        var random = SystemRandomNumberGenerator()
        await recorder.finish(
            OverdueOutcomes.outcomes(for: overdue, nowMillis: now, policy: DeliveryPolicy(context.configuration.delivery), using: &random))
    }
}
