import Logging
import Synchronization
import TockCore
import TockStore

/// Claims what the worker's shards have due within `wheel.lookahead` into the wheel, puts claims
/// whose reply was lost back into it (`ClaimReconciliation`), drops a shard whose claim was
/// fenced, and on shutdown gives the shards' claims back to their due index.
final class ClaimLoop: Sendable {
    let context: FireContext
    let store: any DeliveryStore
    let wheel: DeliveryWheel
    let leases: LeaseKeeper
    /// Asks for a pass now (a tick, or a shard just gained).
    private let requests: AsyncStream<Void>
    private let requested: AsyncStream<Void>.Continuation
    /// A claim expires a second after its due time. Its lock was asked for `lockAhead` before
    /// that, and entries whose lock is still being asked for are pending in the wheel, so an
    /// expired claim that is neither in the wheel nor pending is one whose reply was lost, or one
    /// whose reply is on its way (then it is offered twice, and `begin` locks it once).
    private let reconciliation: Mutex<ClaimReconciliation>

    init(context: FireContext, store: any DeliveryStore, wheel: DeliveryWheel, leases: LeaseKeeper) {
        self.context = context
        self.store = store
        self.wheel = wheel
        self.leases = leases
        (requests, requested) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        reconciliation = Mutex(ClaimReconciliation(intervalMillis: max(1_000, context.configuration.wheel.claimIntervalMillis), graceMillis: 1_000))
    }

    /// Asks for a pass now, besides the periodic ones.
    func requestPass() { requested.yield() }

    func stop() { requested.finish() }

    /// A pass every `wheel.claimInterval`, and on request; a pass that found more than a batch in
    /// some shard is followed by another at once.
    func run() async {
        let interval = Duration.milliseconds(context.configuration.wheel.claimIntervalMillis)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    self.requested.yield()
                    try? await Task.sleep(for: interval)
                }
            }
            for await _ in requests {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                while await claimOnce(), !Task.isCancelled, !Task.isShuttingDownGracefully {}
                await reconcileIfDue()
            }
            group.cancelAll()
        }
    }

    /// One claim pass over the owned shards; true when some shard had more than a batch.
    func claimOnce() async -> Bool {
        let state = context.state
        let owners = state.ownerships
        guard !owners.isEmpty else { return false }
        let now = context.clock.nowMillis()
        let limit = context.configuration.wheel.claimBatchSize
        do {
            // This process's own expired locks are spared for `ownGraceMillis`; later they are
            // reaped all the same, for a lock whose outcome was never recorded (a `begin` whose
            // reply was lost, or a completion that could not be written). Locks still held here
            // are renewed first: after a Redis stall longer than that, the claim must not reap a
            // delivery this worker may already have published and is about to record.
            try await leases.renewHeldLocks()
            let results = try await store.claim(
                owners, nowMillis: now, horizon: now + context.configuration.wheel.lookaheadMillis, limit: limit,
                token: state.token, ownGraceMillis: context.leaseTerms.ownGraceMillis)
            state.setRedisError(nil)
            var again = false
            for (shard, result) in results {
                switch result {
                case .success(let claimed):
                    wheel.insert(claimed)
                    context.metrics.claimed.increment(by: claimed.count)
                    if claimed.count >= limit { again = true }
                case .failure(.fenced(_, let detail)):
                    context.lostShard(shard, detail: detail, wheel: wheel)
                case .failure(let error):
                    context.redisFailed("claim failed", error: error, metadata: ["shard": "\(shard)"])
                }
            }
            return again
        } catch {
            context.redisFailed("claim failed", error: error, unready: true)
            return false
        }
    }

    /// Puts claims that expired without reaching this worker's wheel back into it.
    func reconcileIfDue() async {
        let owners = context.state.ownerships
        guard !owners.isEmpty, let dueBefore = reconciliation.withLock({ $0.passDue(nowMillis: context.clock.nowMillis()) }) else { return }
        do {
            let expired = try await store.overdueClaims(
                Array(owners.keys), dueBefore: dueBefore, limit: context.configuration.wheel.claimBatchSize)
            var found = 0
            for (shard, entries) in expired where context.state.ownership(of: shard) != nil {
                let missing = wheel.missing(entries)
                wheel.insert(missing)
                found += missing.count
            }
            if found > 0 {
                context.metrics.reconciled.increment(by: found)
                context.logger.warning("claimed messages no wheel held (a lost reply) are back in the wheel", metadata: ["messages": "\(found)"])
            }
        } catch {
            context.redisFailed("looking for expired claims failed", error: error)
        }
    }

    /// Empties the wheel and moves each owned shard's claimed entries back to its due index.
    func handBack() async {
        let dropped = wheel.removeAll()
        var released = 0
        for (shard, owner) in context.state.ownerships.sorted(by: { $0.key < $1.key }) {
            do { released += try await store.release(shard: shard, as: owner) } catch {
                context.logger.warning(
                    "could not give claimed messages back; the next owner takes them", metadata: ["shard": "\(shard)", "error": "\(error)"])
            }
        }
        context.logger.info("wheel handed back to Redis", metadata: ["wheelEntries": "\(dropped)", "released": "\(released)"])
    }
}
