import Logging
import ServiceLifecycle
import TockCore
import TockStore

/// Keeps what the worker's shards have due soon in a timing wheel and publishes each message at
/// its due time: claim (Redis → wheel, `ClaimLoop`), lock (`DeliveryLocker`), publish and record
/// (`SlicePipeline`), with leases kept alive meanwhile (`LeaseKeeper`). This coordinates them.
///
/// On graceful shutdown it stops claiming and firing, lets in-flight deliveries finish, and gives
/// every claimed entry of its shards back to their due index.
public final class FireService: Service, Sendable {
    /// Batches allowed between their expiry and their broker acknowledgement. A batch waits for
    /// its acknowledgements (tens to hundreds of ms on a loaded broker), so this must cover the
    /// fire rate times that wait; it only bounds memory when the broker stalls.
    static let maxBatchesInFlight = 20_000

    let context: FireContext
    let wheel: DeliveryWheel
    let claims: ClaimLoop
    let leases: LeaseKeeper
    let locker: DeliveryLocker
    let pipeline: SlicePipeline

    /// - Parameters:
    ///   - store: claims, lease renewals and hand-backs.
    ///   - lockStore: locks and rate-limit slots; `deliveryStore`: outcomes. The same
    ///     store on connections of their own: each connection runs one round trip at a time, and a
    ///     lock must not wait behind an ingest batch, a claim or a completion.
    ///   - finder: reads output partitions back before a later attempt is published.
    public init(
        configuration: TockConfiguration, store: any DeliveryStore, lockStore: (any DeliveryStore)? = nil,
        deliveryStore: (any DeliveryStore)? = nil, producer: any RecordSink, finder: (any RecordLookup)? = nil,
        faults: FaultPoints = FaultPoints(), state: WorkerState, metrics: WorkerMetrics, clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        let context = FireContext(configuration: configuration, state: state, metrics: metrics, clock: clock, logger: logger)
        let deliveryStore = deliveryStore ?? store
        let lockStore = lockStore ?? deliveryStore
        self.context = context
        wheel = DeliveryWheel(
            lockAheadMillis: configuration.delivery.lockAheadMillis, shardMap: store.shardMap, clock: clock, metrics: metrics, logger: logger)
        let recorder = OutcomeRecorder(context: context, store: deliveryStore, wheel: wheel)
        leases = LeaseKeeper(context: context, store: store, recorder: recorder)
        claims = ClaimLoop(context: context, store: store, wheel: wheel, leases: leases)
        locker = DeliveryLocker(context: context, store: lockStore, wheel: wheel)
        pipeline = SlicePipeline(
            context: context, leases: leases, lookup: finder, rateLimiter: RateLimiter(context: context, store: lockStore, leases: leases),
            publisher: DeliveryPublisher(context: context, sink: producer, leases: leases),
            deadLetters: DeadLetterPublisher(context: context, sink: producer), recorder: recorder, faults: faults)
    }

    /// Puts claimed messages into the wheel (from ingest).
    public func insert(_ entries: [(id: String, dueMillis: Int64)]) { wheel.insert(entries) }

    public func cancel(_ id: String) { wheel.cancel(id) }

    /// Drops the wheel entries of shards this worker no longer owns: their new owner fires them.
    public func dropShards(_ shards: Set<Int>) { wheel.dropShards(shards) }

    /// Runs a claim pass now (a shard was just gained), besides the periodic ones.
    public func claimSoon() { claims.requestPass() }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.claims.run() }
                group.addTask { await self.leases.renewLoop() }
                group.addTask { await self.leases.watchdogLoop() }
                await self.fireLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wheel.stop()
            self.claims.stop()
        }
        pipeline.publisher.stop()
        leases.stop()
        await claims.handBack()
    }

    /// Each expired batch locks and publishes in its own task: a Redis or broker round trip for
    /// one batch must not hold back the batches due right after it.
    func fireLoop() async {
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for await batch in wheel.expirations {
                wheel.expired(batch)
                if inFlight >= Self.maxBatchesInFlight {
                    await group.next()
                    inFlight -= 1
                }
                group.addTask { await self.fire(batch) }
                inFlight += 1
            }
        }
    }

    /// Locks an expired batch and delivers what it locked. Entries that could not be locked
    /// because Redis failed are still claimed: they go back into the wheel shortly.
    func fire(_ batch: [DeliveryWheel.Entry]) async {
        let sent = ContinuousClock.now
        let (deliveries, retry) = await locker.lock(batch)
        let retrying = Set(retry.map(\.id))
        wheel.answered(batch.lazy.map(\.id).filter { !retrying.contains($0) })
        if !retry.isEmpty {
            try? await Task.sleep(for: .milliseconds(250))
            wheel.insert(retry.map { ($0.id, $0.fireMillis) })
            wheel.answered(retrying)
        }
        guard !deliveries.isEmpty else { return }
        let lockedMillis = context.clock.nowMillis()
        leases.held.withLock {
            $0.hold(deliveries, validUntil: sent + leases.terms.knownLease, lockedMillis: lockedMillis, publishMillis: pipeline.latestPublishMillis)
        }
        await pipeline.deliver(deliveries)
    }
}
