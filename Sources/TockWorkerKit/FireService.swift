import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TockCore
import TockKafka
import TockStore
import TockTiming

/// Keeps what the worker's shards have due soon in a timing wheel and publishes each message at
/// its due time: claim (Redis → wheel), fire (wheel → lock in Redis → publish → record outcome),
/// retry with backoff and full jitter, dead-letter after `delivery.maxAttempts`.
///
/// On graceful shutdown it stops claiming and firing, lets in-flight deliveries finish, and gives
/// every claimed entry of its shards back to their due index.
public final class FireService: Service, Sendable {
    public typealias Entry = TimingWheel<String>.Entry

    let configuration: TockConfiguration
    let store: ScheduleStore
    /// The same store on connections of their own, one set for delivery locks and one for
    /// recording outcomes: each connection runs one round trip at a time, and a lock must not
    /// wait behind an ingest batch, a claim or a completion.
    let lockStore: ScheduleStore
    let deliveryStore: ScheduleStore
    let producer: KafkaProducerPool
    /// Reads output partitions back before a delivery with an earlier attempt is published again
    /// (`ReadBack`); without one, such deliveries are published unchecked.
    let finder: KafkaRecordFinder?
    let faults: FaultPoints
    let state: WorkerState
    let metrics: WorkerMetrics
    let clock: any WallClock
    let logger: Logger
    let driver: TimingWheelDriver<String>
    /// Publishes locked deliveries at their due time, from a thread of its own.
    let gate: DueGate
    /// Says when the process stood still (its delivery locks may have run out meanwhile). The
    /// records the producer already held then still go out when it runs again: failing them
    /// (`rd_kafka_purge`) makes the idempotent producer bump its epoch, which the local broker
    /// answers with PRODUCER_FENCED on every later record (docs/never-twice.md).
    let watchdog: StallWatchdog
    let expirations: AsyncStream<[Entry]>
    let expirationsContinuation: AsyncStream<[Entry]>.Continuation
    /// Delivery locks not yet finished: their leases are renewed while they wait.
    let heldLocks = Mutex(HeldLocks())
    /// Asks the claim loop for a pass now (a tick, or a shard just gained).
    let claimRequests: AsyncStream<Void>
    let claimRequested: AsyncStream<Void>.Continuation
    /// Batches allowed between their expiry and their broker acknowledgement. A batch waits for
    /// its acknowledgements (tens to hundreds of ms on a loaded broker), so this must cover the
    /// fire rate times that wait; it only bounds memory when the broker stalls.
    let maxBatchesInFlight = 20_000
    /// Claims that no wheel holds come back into this worker's wheel (see `ClaimReconciliation`).
    let reconciliation: Mutex<ClaimReconciliation>
    /// Ids the wheel fired whose lock has not been answered yet (or that wait to go back into the
    /// wheel after a failed one): still claimed in Redis, and not lost.
    let lockPending = Mutex<Set<String>>([])

    public init(
        configuration: TockConfiguration,
        store: ScheduleStore,
        lockStore: ScheduleStore? = nil,
        deliveryStore: ScheduleStore? = nil,
        producer: KafkaProducerPool,
        finder: KafkaRecordFinder? = nil,
        faults: FaultPoints = FaultPoints(),
        state: WorkerState,
        metrics: WorkerMetrics,
        clock: any WallClock = SystemWallClock(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.deliveryStore = deliveryStore ?? store
        self.lockStore = lockStore ?? deliveryStore ?? store
        self.producer = producer
        self.finder = finder
        self.faults = faults
        self.state = state
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        let (stream, continuation) = AsyncStream<[Entry]>.makeStream()
        expirations = stream
        expirationsContinuation = continuation
        (claimRequests, claimRequested) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        // Entries expire `delivery.lockAhead` before they are due, in batches of up to half of
        // that, so locking takes a few large Redis calls, not one per millisecond.
        let lockAhead = configuration.delivery.lockAheadMillis
        driver = TimingWheelDriver<String>(clock: clock, leadMillis: lockAhead, batchMillis: max(1, lockAhead / 2)) {
            continuation.yield($0)
        }
        gate = DueGate(clock: clock, name: "tock-publish")
        watchdog = StallWatchdog(threshold: .milliseconds(max(500, configuration.delivery.leaseTimeoutMillis / 3))) { [metrics, logger] gap in
            metrics.stalls.increment()
            logger.warning(
                "the process stood still; deliveries whose locks ran out meanwhile are not published here",
                metadata: ["stalled": "\(gap)"])
        }
        // A claim expires a second after its due time. Its lock was asked for `lockAhead` before
        // that, and entries whose lock is still being asked for are known (`lockPending`), so an
        // expired claim that is neither in the wheel nor pending is one whose reply was lost, or
        // one whose reply is on its way (then it is offered twice, and `begin` locks it once).
        reconciliation = Mutex(ClaimReconciliation(intervalMillis: max(1_000, configuration.wheel.claimIntervalMillis), graceMillis: 1_000))
    }

    /// Puts claimed messages into the wheel (from the claim loop, ingest and retries).
    public func insert(_ entries: [(id: String, dueMillis: Int64)]) {
        guard !entries.isEmpty else { return }
        driver.insert(contentsOf: entries.map { Entry(id: $0.id, dueMillis: $0.dueMillis) })
        metrics.wheelEntries.record(driver.count)
    }

    public func cancel(_ id: String) {
        driver.cancel(id)
        metrics.wheelEntries.record(driver.count)
    }

    /// Drops the wheel entries of shards this worker no longer owns: their new owner fires them.
    public func dropShards(_ shards: Set<Int>) {
        guard !shards.isEmpty else { return }
        let removed = driver.removeAll(where: { shards.contains(store.shardMap.shard(of: $0)) })
        metrics.wheelEntries.record(driver.count)
        logger.info("dropped wheel entries of lost shards", metadata: ["shards": "\(shards.sorted())", "entries": "\(removed.count)"])
    }

    /// Runs a claim pass now (a shard was just gained), besides the periodic ones.
    public func claimSoon() { claimRequested.yield() }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.claimLoop() }
                group.addTask { await self.renewLoop() }
                group.addTask { await self.watchdogLoop() }
                await self.fireLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.driver.stop()
            self.expirationsContinuation.finish()
            self.claimRequested.finish()
        }
        gate.stop()
        watchdog.stop()
        await handBack()
    }

    // MARK: - Claim

    /// A pass every `wheel.claimInterval`, and on request (`claimSoon`); a pass that found more
    /// than a batch in some shard is followed by another at once.
    func claimLoop() async {
        let interval = Duration.milliseconds(configuration.wheel.claimIntervalMillis)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    self.claimRequested.yield()
                    try? await Task.sleep(for: interval)
                }
            }
            for await _ in claimRequests {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                while await claimOnce(), !Task.isCancelled, !Task.isShuttingDownGracefully {}
                await reconcileIfDue()
            }
            group.cancelAll()
        }
    }

    /// One claim pass over the owned shards; true when some shard had more than a batch.
    func claimOnce() async -> Bool {
        let owners = state.ownerships
        guard !owners.isEmpty else { return false }
        let now = clock.nowMillis()
        let limit = configuration.wheel.claimBatchSize
        do {
            // This process's own expired locks are most likely deliveries whose renewal an
            // overloaded Redis delayed: give them two more lease periods. Later they are reaped
            // all the same, for a lock whose outcome was never recorded (a `begin` whose reply
            // was lost, or a completion that could not be written). Locks still held here are
            // renewed first: after a Redis stall longer than that, the claim must not reap a
            // delivery this worker may already have published and is about to record.
            try await renewHeldLocks()
            let results = try await store.claim(
                owners, nowMillis: now, horizon: now + configuration.wheel.lookaheadMillis, limit: limit,
                token: state.token, ownGraceMillis: 2 * configuration.delivery.leaseTimeoutMillis)
            state.setRedisError(nil)
            var again = false
            for (shard, result) in results {
                switch result {
                case .success(let claimed):
                    insert(claimed)
                    metrics.claimed.increment(by: claimed.count)
                    if claimed.count >= limit { again = true }
                case .failure(.fenced(_, let detail)):
                    lostShard(shard, detail: detail)
                case .failure(let error):
                    metrics.redisErrors.increment()
                    logger.warning("claim failed", metadata: ["shard": "\(shard)", "error": "\(error)"])
                }
            }
            return again
        } catch {
            metrics.redisErrors.increment()
            state.setRedisError("\(error)")
            logger.warning("claim failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Puts claims that expired without reaching this worker's wheel back into it.
    func reconcileIfDue() async {
        let owners = state.ownerships
        guard !owners.isEmpty, let dueBefore = reconciliation.withLock({ $0.passDue(nowMillis: clock.nowMillis()) }) else { return }
        do {
            let expired = try await store.overdueClaims(Array(owners.keys), dueBefore: dueBefore, limit: configuration.wheel.claimBatchSize)
            var found = 0
            for (shard, entries) in expired where state.ownership(of: shard) != nil {
                let missing = lockPending.withLock { pending in
                    ClaimReconciliation.missing(entries, wheelHolds: { pending.contains($0) || driver.contains($0) })
                }
                insert(missing)
                found += missing.count
            }
            if found > 0 {
                metrics.reconciled.increment(by: found)
                logger.warning("claimed messages no wheel held (a lost reply) are back in the wheel", metadata: ["messages": "\(found)"])
            }
        } catch {
            metrics.redisErrors.increment()
            logger.warning("looking for expired claims failed", metadata: ["error": "\(error)"])
        }
    }

    func lostShard(_ shard: Int, detail: String) {
        if state.dropShard(shard) {
            logger.warning(
                "fenced: lost shard ownership; its messages are left to the new owner", metadata: ["shard": "\(shard)", "detail": "\(detail)"])
            dropShards([shard])
        }
    }

    // MARK: - Lock renewal

    /// A delivery lock outlives `delivery.leaseTimeout` only while this worker renews it: a slow
    /// broker never lets another worker publish the same message, and a dead worker's locks run
    /// out within the timeout.
    func renewLoop() async {
        let interval = Self.renewIntervalMillis(configuration.delivery)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(interval))
            do {
                try await renewHeldLocks()
            } catch {
                metrics.redisErrors.increment()
                logger.warning("renewing delivery locks failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Extends every delivery lock this worker holds by a lease period from now.
    func renewHeldLocks() async throws(StoreError) {
        let held = heldLocks.withLock { $0.renewal }
        guard !held.isEmpty else { return }
        let sent = ContinuousClock.now
        let renewed = try await store.renew(held, leaseUntil: clock.nowMillis() + configuration.delivery.leaseTimeoutMillis)
        // Per shard: a shard whose master is down, or one of whose locks was reaped, extends none.
        let complete = held.filter { renewed[$0.key] == $0.value.count }
        heldLocks.withLock { $0.renewed(complete, validUntil: sent + knownLease) }
        let failed = held.keys.filter { renewed[$0] == nil }
        if !failed.isEmpty { logger.warning("renewing delivery locks failed for some shards", metadata: ["shards": "\(failed.sorted())"]) }
    }

    /// Runs the watchdog every renewal interval, in a loop of its own: giving deliveries back may
    /// wait for Redis, and renewals must not wait behind it.
    func watchdogLoop() async {
        let interval = Self.renewIntervalMillis(configuration.delivery)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(interval))
            await handBackOverdue()
        }
    }

    /// The watchdog over held deliveries (see `HeldLocks`): a delivery not handed to the producer
    /// within a lease after its latest publish time (`latestPublishMillis`, or after it was locked,
    /// if that was later) is given up, loudly, and goes back to the queue at once, its attempt not
    /// counted; one handed over whose outcome is not recorded within `recordingGraceMillis` more
    /// goes back as a new attempt, read back first; one settled otherwise (a dead letter, a skipped
    /// occurrence) is only forgotten, so its lease runs out. A lease is never renewed for a
    /// delivery nobody is publishing.
    func handBackOverdue() async {
        let now = clock.nowMillis()
        let lease = configuration.delivery.leaseTimeoutMillis
        let (overdue, oldest) = heldLocks.withLock { held in
            (
                held.handBackOverdue(nowMillis: now, unsentGraceMillis: lease, sentGraceMillis: lease + Self.recordingGraceMillis),
                held.oldestOverdueMillis(nowMillis: now)
            )
        }
        metrics.oldestHeldDelivery.record(Double(oldest) / 1_000)
        guard !overdue.isEmpty else { return }
        let policy = DeliveryPolicy(configuration.delivery)
        var outcomes: [String: LockOutcome] = [:]
        for given in overdue {
            metrics.handedBack.increment(by: given.deliveries.count)
            logger.error(
                given.progress == .settled
                    ? "deliveries whose outcome was not recorded in time are given up; their lease runs out"
                    : "deliveries held past their time without an outcome go back to the queue",
                metadata: [
                    "lock": "\(given.lock)", "shard": "\(given.shard)", "stage": "\(given.stage.rawValue)", "overdueMs": "\(given.overdueMillis)",
                    "progress": "\(given.progress)", "deliveries": "\(given.deliveries.count)",
                    "ids": "\(given.deliveries.prefix(10).map(\.message.id))",
                ])
            guard given.progress != .settled else { continue }
            var outcome = outcomes[given.lock] ?? LockOutcome(shard: given.shard, lock: given.lock)
            for delivery in given.deliveries {
                // Spread out as any retry is, so that what held them up is not met again all at once.
                let next = now + Int64.random(in: 0...policy.backoffCeilingMillis(attempt: delivery.attempt))
                outcome.markRetry(delivery, atMillis: next, counted: given.progress == .sent)
            }
            outcomes[given.lock] = outcome
        }
        await finish(outcomes.keys.sorted().map { outcomes[$0]! })
    }

    /// How long after the unsent grace a delivery handed to the producer may wait for its outcome
    /// to be recorded (`recordPersistently` gives up after about 30 s) before it is given up too.
    static let recordingGraceMillis: Int64 = 60_000

    /// How long after sending a `begin` or a renewal this worker counts on the lease: the lease
    /// less a margin for the clocks of the workers that may reap it.
    var knownLease: Duration { .milliseconds(Self.knownLeaseMillis(configuration.delivery)) }

    var producerTimeout: Duration { .milliseconds(Self.producerTimeoutMillis(configuration.delivery)) }

    static func knownLeaseMillis(_ delivery: TockConfiguration.Delivery) -> Int64 {
        delivery.leaseTimeoutMillis - max(250, delivery.leaseTimeoutMillis / 6)
    }

    /// The producer's `message.timeout.ms`: within the lease a renewed lock always has left (the
    /// known lease less a renewal interval), less room for the renewal's round trip.
    static func producerTimeoutMillis(_ delivery: TockConfiguration.Delivery) -> Int64 {
        max(500, knownLeaseMillis(delivery) - renewIntervalMillis(delivery) - 300)
    }

    static func renewIntervalMillis(_ delivery: TockConfiguration.Delivery) -> Int64 { max(100, delivery.leaseTimeoutMillis / 3) }

    // MARK: - Fire

    func fireLoop() async {
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            // Each expired batch locks and publishes in its own task: a Redis or broker round trip
            // for one batch must not hold back the batches due right after it.
            for await batch in expirations {
                metrics.wheelEntries.record(driver.count)
                lockPending.withLock { pending in for entry in batch { pending.insert(entry.id) } }
                if inFlight >= maxBatchesInFlight {
                    await group.next()
                    inFlight -= 1
                }
                group.addTask {
                    let sent = ContinuousClock.now
                    let (deliveries, retry) = await self.lock(batch)
                    if !retry.isEmpty {
                        // Still claimed (or locked, if the failed call did run: then the lease runs
                        // out and the claim loop brings them back), so firing them again is safe.
                        try? await Task.sleep(for: .milliseconds(250))
                        self.insert(retry.map { ($0.id, $0.fireMillis) })
                        self.lockPending.withLock { pending in for entry in retry { pending.remove(entry.id) } }
                    }
                    guard !deliveries.isEmpty else { return }
                    let lockedMillis = self.clock.nowMillis()
                    self.heldLocks.withLock {
                        $0.hold(deliveries, validUntil: sent + self.knownLease, lockedMillis: lockedMillis, publishMillis: self.latestPublishMillis)
                    }
                    await self.deliver(deliveries)
                }
                inFlight += 1
            }
        }
    }

    /// Takes the delivery lock of a fired batch, `delivery.lockAhead` before it is due. Returns the
    /// locked deliveries, and the entries that could not be locked now because Redis failed: they
    /// go back into the wheel shortly. Ones no longer claimed are dropped (cancelled, rescheduled
    /// or moved to another owner).
    func lock(_ batch: [Entry]) async -> (locked: [LockedDelivery], retry: [(id: String, fireMillis: Int64)]) {
        var retry: [(id: String, fireMillis: Int64)] = []
        defer {
            // Entries to retry stay pending until the caller puts them back into the wheel.
            let retrying = Set(retry.map(\.id))
            lockPending.withLock { pending in
                for entry in batch where !retrying.contains(entry.id) { pending.remove(entry.id) }
            }
        }
        let owners = state.ownerships
        var byShard: [Int: [(id: String, fireMillis: Int64)]] = [:]
        for entry in batch {
            let shard = store.shardMap.shard(of: entry.id)
            guard owners[shard] != nil else {
                metrics.firedSkipped.increment()
                continue
            }
            byShard[shard, default: []].append((entry.id, entry.dueMillis))
        }
        guard !byShard.isEmpty else { return ([], []) }
        let now = clock.nowMillis()
        do {
            let results = try await lockStore.begin(
                byShard, as: owners, token: state.token, dueBy: now + configuration.delivery.lockAheadMillis,
                leaseUntil: now + configuration.delivery.leaseTimeoutMillis)
            metrics.lockRoundTrip.recordMilliseconds(clock.nowMillis() - now)
            var locked: [LockedDelivery] = []
            for (shard, result) in results {
                switch result {
                case .success(let deliveries):
                    locked.append(contentsOf: deliveries)
                    metrics.firedSkipped.increment(by: byShard[shard]!.count - deliveries.count)
                case .failure(.fenced(_, let detail)):
                    lostShard(shard, detail: detail)
                case .failure(let error):
                    metrics.redisErrors.increment()
                    logger.warning("delivery lock failed", metadata: ["shard": "\(shard)", "error": "\(error)"])
                    retry += byShard[shard]!
                }
            }
            return (locked, retry)
        } catch {
            metrics.redisErrors.increment()
            state.setRedisError("\(error)")
            logger.warning("delivery lock failed", metadata: ["error": "\(error)"])
            retry = byShard.values.flatMap { $0 }
            return ([], retry)
        }
    }

    /// Publishes a locked batch in slices of up to 50 ms of due time, each recorded as soon as its
    /// last record is acknowledged (`PublishSlices`); each slice's locks are released from renewal
    /// once it is recorded.
    func deliver(_ deliveries: [LockedDelivery]) async {
        await withTaskGroup(of: Void.self) { group in
            // Records of rate-limited topics wait for their slots in slices of their own, so that
            // neither the slot calls nor the waits hold back the others' publishing or recording.
            let limits = configuration.output.rateLimits
            let limited = limits.isEmpty ? [] : deliveries.filter { limits.limit(for: $0.message.topic) != nil }
            let free = limited.isEmpty ? deliveries : deliveries.filter { limits.limit(for: $0.message.topic) == nil }
            for slice in PublishSlices.split(free, spanMillis: 50) + PublishSlices.split(limited, spanMillis: 50) {
                group.addTask {
                    await self.deliverSlice(slice)
                    self.heldLocks.withLock { $0.release(slice) }
                }
            }
        }
    }

    /// When a delivery is published at the latest in the normal course: at its publish time, plus
    /// the read-back's timeout for a later attempt, plus `rateHorizonMillis` for a rate-limited topic.
    func latestPublishMillis(_ delivery: LockedDelivery) -> Int64 {
        var at = PublishSlices.publishMillis(delivery)
        if ReadBack.isLookedFor(delivery) { at += Self.readBackTimeoutMillis }
        if configuration.output.rateLimits.limit(for: delivery.message.topic) != nil { at += Self.rateHorizonMillis }
        return at
    }

    func deliverSlice(_ deliveries: [LockedDelivery]) async {
        var settlement = DeliverySettlement(
            deliveries, policy: DeliveryPolicy(configuration.delivery), nowMillis: clock.nowMillis(),
            missedAfterMillis: configuration.series.missedAfterMillis)
        if !settlement.unreadable.isEmpty {
            logger.error(
                "series definitions that do not read here (is the tz database complete?); their occurrences are tried again in a minute",
                metadata: ["occurrences": "\(settlement.unreadable.map(\.message.id))"])
        }
        if !settlement.skipped.isEmpty {
            metrics.occurrencesSkipped.increment(by: settlement.skipped.count)
            logger.info(
                "series occurrences not published (tock-catchup, or left behind by a reschedule)",
                metadata: [
                    "occurrences": "\(settlement.skipped.map(\.message.id))"
                ])
        }
        var random = SystemRandomNumberGenerator()
        let partitions = await outputPartitions(settlement.toPublish)
        var toPublish = settlement.toPublish
        let readBack = ReadBack(toPublish, partitions: partitions, skewMillis: Self.readBackSkewMillis)
        if !readBack.ids.isEmpty, let finder {
            heldLocks.withLock { $0.enter(.readBack, deliveries) }
            metrics.readBackChecked.increment(by: readBack.ids.count)
            let readBackFailure: DeliveryOutcome?
            var found: Set<String> = []
            do {
                found = try await finder.find(header: "tock-id", values: readBack.ids, from: readBack.from, timeout: Self.readBackTimeout)
                readBackFailure = nil
            } catch {
                metrics.kafkaErrors.increment()
                logger.warning("reading output partitions back failed; those deliveries are retried", metadata: ["error": "\(error)"])
                readBackFailure = .notAttempted(detail: "read-back: \(error)")
            }
            let now = clock.nowMillis()
            toPublish.removeAll { delivery in
                guard readBack.ids.contains(delivery.message.id) else { return false }
                if found.contains(delivery.message.id) {
                    metrics.readBackFound.increment()
                    logger.info(
                        "an earlier attempt is already in its partition; not published again",
                        metadata: [
                            "id": "\(delivery.message.id)", "attempt": "\(delivery.attempt)",
                        ])
                    _ = settlement.record(delivery, .delivered, nowMillis: now, using: &random)
                    return true
                }
                if let readBackFailure {
                    _ = settlement.record(delivery, readBackFailure, nowMillis: now, using: &random)
                    return true
                }
                return false
            }
        }
        let slots = await applyRateLimits(&toPublish, settlement: &settlement)
        heldLocks.withLock { $0.enter(.publishing, deliveries) }
        await faults.hangIfDueBeforePublishing(toPublish.map(\.message.id))
        let generation = producer.generation
        let outcomes = await publish(toPublish, partitions: partitions, notBefore: slots)
        if outcomes.contains(where: { if case .failure(let error) = $0.1 { error.needsNewProducer } else { false } }) {
            await replaceFencedProducers(since: generation)
        }
        let now = clock.nowMillis()
        for (delivery, result) in outcomes {
            let outcome = DeliveryOutcome(result)
            switch outcome {
            case .failed, .rejected: metrics.kafkaErrors.increment()
            case .delivered, .notAttempted: break
            }
            switch settlement.record(delivery, outcome, nowMillis: now, using: &random) {
            case .delivered:
                metrics.firedDelivered.increment()
                var lateness: Int64?
                if case .success(let report) = result {
                    if delivery.attempt == 1, let timestamp = report.timestamp?.milliseconds {
                        lateness = max(0, timestamp - delivery.message.dueMillis)
                        metrics.fireLateness.recordMilliseconds(lateness!)
                    }
                    if let micros = report.latencyMicros { metrics.deliveryAck.recordMicroseconds(micros) }
                }
                state.activity.fired(nowMillis: now, latenessMillis: lateness)
            case .retry(let next):
                metrics.firedRetried.increment()
                metrics.retries[outcome.retryReason]?.increment()
                logger.info(
                    "delivery failed; retrying",
                    metadata: [
                        "id": "\(delivery.message.id)", "attempt": "\(delivery.attempt)", "retryInMs": "\(next - now)",
                        "error": "\(outcome.detail ?? "")",
                    ])
            case .deadLetter:
                break
            }
        }
        heldLocks.withLock { $0.enter(.recording, deliveries) }
        settlement.settleDeadLetters(published: await deadLetter(settlement.deadLetters.map { ($0.delivery, $0.letter) }))
        if !outcomes.isEmpty { faults.killIfDueBeforeFinishing(outcomes.count) }
        await finish(settlement.lockOutcomes)
    }

    /// Publishes each delivery at its due time: one gate job per due millisecond, each record
    /// enqueued (and its CreateTime stamped) on the gate's thread the moment the clock reaches it.
    /// The batch waits once for the whole schedule, then for reports that have mostly arrived by then.
    /// `notBefore`: rate limits' slots, by entry.
    func publish(
        _ toSend: [LockedDelivery], partitions: [String: Int32],
        notBefore: [String: Int64] = [:]
    ) async -> [(LockedDelivery, Result<KafkaDeliveryReport, KafkaError>)] {
        let groups = Dictionary(grouping: toSend) { max(PublishSlices.publishMillis($0), notBefore[$0.entry] ?? .min) }.sorted { $0.key < $1.key }
        let stamp = configuration.delivery.publishedHeader
        let sends = await gate.run(
            schedule: groups.map { at, members in
                let records = members.map { delivery in
                    var record = OutputRecords.output(delivery.message, attempt: delivery.attempt, series: delivery.series?.id)
                    record.partition = partitions[delivery.message.id]
                    return record
                }
                return (
                    at,
                    { [producer, clock, self] in
                        // Reports of earlier records are served here, in this wake-up, not in one of their own.
                        defer { producer.serveDeliveryReports() }
                        // A record of a rate-limited topic goes out within the guard after its slot, or not now
                        // (stamped later, it could share a second with the slots after it). Every record
                        // carries the time checked as its CreateTime: a thread preempted between the check and
                        // the hand-off cannot move it out of its slot, and it is the reference clock's time
                        // (SPEC guarantee 5), which librdkafka's stamp, the host's wall clock, need not be.
                        let now = clock.nowMillis()
                        let inSlot = members.map { notBefore[$0.entry].map { now < $0 + RateSlots.guardMillis } ?? true }
                        // A lock whose lease this worker can no longer vouch for (it stalled), or that it gave
                        // up, may be another worker's by now: its records stay here. A record may wait in the
                        // producer up to its timeout: the lease must outlast that.
                        let sentBy = ContinuousClock.now + self.producerTimeout
                        let (holds, enqueueBy) = self.heldLocks.withLock { held in
                            let onTime = zip(members, inSlot).filter(\.1).map(\.0)
                            var taken = held.takeForSending(onTime, sentBy: sentBy).makeIterator()
                            return (inSlot.map { $0 && taken.next()! }, members.compactMap { held.validUntil($0.lock) }.min())
                        }
                        var toEnqueue: [KafkaProducerRecord] = []
                        toEnqueue.reserveCapacity(records.count)
                        for (index, record) in records.enumerated() where holds[index] {
                            var record = record
                            record.timestamp = now
                            toEnqueue.append(record)
                        }
                        if stamp {
                            let published = KafkaHeader(key: "tock-published-us", string: String(clock.nowMicros()))
                            for index in toEnqueue.indices { toEnqueue[index].headers.append(published) }
                        }
                        // A full queue may keep some back; they may be enqueued only while the lease still covers the timeout.
                        return (holds, inSlot, enqueueBy.map { $0 - self.producerTimeout }, producer.enqueue(toEnqueue))
                    }
                )
            })
        var outcomes: [(LockedDelivery, Result<KafkaDeliveryReport, KafkaError>)] = []
        outcomes.reserveCapacity(toSend.count)
        var withheld = 0
        for ((_, members), (holds, inSlot, enqueueBy, pending)) in zip(groups, sends) {
            var results = await pending.results(enqueueBy: enqueueBy).makeIterator()
            for ((delivery, held), onTime) in zip(zip(members, holds), inSlot) {
                if held, let result = results.next() {
                    outcomes.append((delivery, result))
                } else if !onTime {
                    if let glob = configuration.output.rateLimits.limit(for: delivery.message.topic)?.glob {
                        metrics.rateLimitRequeued[glob]?.increment()
                    }
                    outcomes.append(
                        (delivery, .failure(KafkaError(code: .purgedQueued, message: "it missed its rate-limit slot (the worker was late)"))))
                } else {
                    withheld += 1
                    outcomes.append(
                        (
                            delivery,
                            .failure(
                                KafkaError(
                                    code: .purgedQueued, message: "its delivery lock's lease ran out before it was published (the worker stalled)"))
                        ))
                }
            }
        }
        if withheld > 0 {
            metrics.leaseWithheld.increment(by: withheld)
            logger.warning(
                "not published: the delivery locks' leases ran out first; they are retried after a read-back", metadata: ["deliveries": "\(withheld)"]
            )
        }
        return outcomes
    }

    /// How far ahead a rate limit's slot may be for a record to wait for it here; a record without
    /// one goes back to the queue until about when its slot would come.
    static let rateHorizonMillis: Int64 = 1_000

    /// Takes publish slots for the records of rate-limited topics (`output.rateLimits`), in due
    /// order, one Redis call per topic; records with no slot within `rateHorizonMillis` leave
    /// `deliveries` and are queued again. Returns the slots' times by entry. Unlimited topics
    /// are not touched.
    func applyRateLimits(_ deliveries: inout [LockedDelivery], settlement: inout DeliverySettlement) async -> [String: Int64] {
        let limits = configuration.output.rateLimits
        guard !limits.isEmpty else { return [:] }
        var byTopic: [String: (RateLimits.Limit, [LockedDelivery])] = [:]
        for delivery in deliveries {
            guard let limit = limits.limit(for: delivery.message.topic) else { continue }
            byTopic[delivery.message.topic, default: (limit, [])].1.append(delivery)
        }
        guard !byTopic.isEmpty else { return [:] }
        heldLocks.withLock { $0.enter(.rateSlots, deliveries) }
        var slots: [String: Int64] = [:]
        var requeued: Set<String> = []
        var random = SystemRandomNumberGenerator()
        for (topic, (limit, members)) in byTopic {
            let ordered = members.sorted { PublishSlices.publishMillis($0) < PublishSlices.publishMillis($1) }
            let now = clock.nowMillis()
            let reserved: RateSlots
            do {
                reserved = try await lockStore.reserveSlots(
                    topic: topic, perSecond: limit.perSecond, nowMillis: now, horizonMillis: Self.rateHorizonMillis,
                    dueTimes: ordered.map(PublishSlices.publishMillis))
            } catch {
                metrics.redisErrors.increment()
                logger.warning("rate limit slots failed; those deliveries are retried", metadata: ["topic": "\(topic)", "error": "\(error)"])
                for delivery in ordered {
                    _ = settlement.record(delivery, .notAttempted(detail: "rate limit: \(error)"), nowMillis: now, using: &random)
                    requeued.insert(delivery.entry)
                }
                continue
            }
            var later = 0
            for (delivery, slot) in zip(ordered, reserved.slots) {
                switch slot {
                case .publish(let at):
                    slots[delivery.entry] = at
                    metrics.rateLimitDelay[limit.glob]?.recordMilliseconds(max(0, at - PublishSlices.publishMillis(delivery)))
                case .later(let at):
                    settlement.requeue(delivery, atMillis: at)
                    requeued.insert(delivery.entry)
                    later += 1
                }
            }
            metrics.rateLimitWaiting[limit.glob]?.record(reserved.backlog + ordered.count)
            metrics.rateLimitRequeued[limit.glob]?.increment(by: later)
        }
        if !requeued.isEmpty { deliveries.removeAll { requeued.contains($0.entry) } }
        return slots
    }

    /// How far behind this worker's clock another worker's may be, when an earlier attempt's
    /// record is looked for from its due time.
    static let readBackSkewMillis: Int64 = 2_000
    /// How long a read-back may take before its deliveries count as failed (and are retried).
    static let readBackTimeoutMillis: Int64 = 10_000
    static var readBackTimeout: Duration { .milliseconds(readBackTimeoutMillis) }

    /// Each delivery's output partition, fixed before publishing (`KafkaKeyPartitioner`), so that
    /// the next owner knows where to look for it; none for a topic the broker does not know yet.
    /// A first attempt never waits for a partition count (ingest looked it up already; one not
    /// known yet leaves the record to librdkafka's partitioner), a later one does: it is read back.
    func outputPartitions(_ deliveries: [LockedDelivery]) async -> [String: Int32] {
        let readBackTopics = Set(deliveries.filter(ReadBack.isLookedFor).map(\.message.topic))
        var counts: [String: Int32?] = [:]
        for topic in Set(deliveries.map(\.message.topic)) {
            counts[topic] = readBackTopics.contains(topic) ? await producer.partitionCount(of: topic) : producer.knownPartitionCount(of: topic)
        }
        let partitioner = producer.outputPartitioner
        var partitions: [String: Int32] = [:]
        partitions.reserveCapacity(deliveries.count)
        for delivery in deliveries {
            let message = delivery.message
            if let count = counts[message.topic] ?? nil, let partition = partitioner.partition(key: message.key, id: message.id, count: count) {
                partitions[message.id] = partition
            }
        }
        return partitions
    }

    /// The broker refuses a producer whose epoch it fenced for good; its deliveries failed and are
    /// retried, through new producers.
    func replaceFencedProducers(since generation: Int) async {
        do {
            // Slices published through the same fenced producers ask too: the first one replaces them.
            guard try await producer.replace(ifGeneration: generation) else { return }
            metrics.producersReplaced.increment()
            logger.warning("the broker fenced the output producer; replaced it")
        } catch {
            metrics.kafkaErrors.increment()
            logger.error("could not replace the fenced output producer", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes messages that will not be delivered to the dead-letter topic; returns the ids of
    /// those now done.
    func deadLetter(_ dead: [(LockedDelivery, DeadLetter)]) async -> Set<String> {
        guard !dead.isEmpty else { return [] }
        let deadTopic = configuration.kafka.deadTopic
        var done: Set<String> = []
        let first = await producer.send(
            dead.map {
                OutputRecords.dead(
                    $0.0.message, attempt: $0.0.attempt, series: $0.0.series?.id, deadTopic: deadTopic, error: $0.1.code.rawValue,
                    detail: $0.1.detail)
            })
        var again: [(LockedDelivery, DeadLetter)] = []
        for ((delivery, letter), result) in zip(dead, first) {
            if case .success = result { done.insert(delivery.message.id) } else { again.append((delivery, letter)) }
        }
        // A payload too large for the output topic is usually too large here too: keep the record,
        // drop the payload.
        if !again.isEmpty {
            let second = await producer.send(
                again.map {
                    OutputRecords.dead(
                        $0.0.message, attempt: $0.0.attempt, series: $0.0.series?.id, deadTopic: deadTopic, error: $0.1.code.rawValue,
                        detail: $0.1.detail, payload: false)
                })
            for ((delivery, _), result) in zip(again, second) {
                switch result {
                case .success: done.insert(delivery.message.id)
                case .failure(let error):
                    metrics.kafkaErrors.increment()
                    logger.error(
                        "cannot dead-letter; the lease will expire and it is retried",
                        metadata: [
                            "id": "\(delivery.message.id)", "error": "\(error)",
                        ])
                }
            }
        }
        metrics.firedDead.increment(by: done.count)
        for (delivery, letter) in dead where done.contains(delivery.message.id) {
            metrics.deadLetters[letter.code]?.increment()
            state.activity.deadLettered(letter.code.rawValue)
            logger.warning(
                "dead-lettered",
                metadata: [
                    "id": "\(delivery.message.id)", "attempt": "\(delivery.attempt)", "code": "\(letter.code.rawValue)", "error": "\(letter.detail)",
                ])
        }
        return done
    }

    /// Records what became of each lock's deliveries, retrying while Redis is unreachable: an
    /// outcome that never lands means the message is published again after its lease (SPEC
    /// guarantee 3's window). Retries due soon go back into the wheel.
    func finish(_ locks: [LockOutcome]) async {
        guard !locks.isEmpty else { return }
        // Only what failed is tried again: on a cluster, one master failing over holds up no other's.
        let remaining = Mutex(locks)
        await recordPersistently("delivery outcomes") {
            let locks = remaining.withLock { $0 }
            let results = try await self.deliveryStore.finishEach(locks, as: self.state.ownerships, nowMillis: self.clock.nowMillis())
            var failed: [LockOutcome] = []
            var firstError: StoreError?
            for (lock, result) in zip(locks, results) {
                switch result {
                case .success(let finished):
                    self.insert(finished.claimed.map { ($0.id, $0.nextMillis) })
                    self.metrics.seriesEnded.increment(by: finished.seriesEnded)
                case .failure(let error):
                    failed.append(lock)
                    firstError = firstError ?? error
                }
            }
            remaining.withLock { $0 = failed }
            if let firstError { throw firstError }
        }
    }

    /// Runs an outcome-recording call until it succeeds, backing off, for up to ~25 s; after that
    /// the lock's expiry takes over (the message is retried).
    func recordPersistently(_ what: String, _ body: @Sendable () async throws -> Void) async {
        for attempt in 1...20 {
            do {
                try await body()
                return
            } catch {
                metrics.redisErrors.increment()
                logger.warning("recording \(what) failed", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(min(2_000, 50 * attempt * attempt)))
            }
        }
        logger.error("gave up recording \(what); they are retried when their lock expires")
    }

    // MARK: - Shutdown

    /// Empties the wheel and moves each owned shard's claimed entries back to its due index.
    func handBack() async {
        let dropped = driver.removeAll().count
        metrics.wheelEntries.record(0)
        var released = 0
        for (shard, owner) in state.ownerships.sorted(by: { $0.key < $1.key }) {
            do { released += try await store.release(shard: shard, as: owner) } catch {
                logger.warning(
                    "could not give claimed messages back; the next owner takes them", metadata: ["shard": "\(shard)", "error": "\(error)"])
            }
        }
        logger.info("wheel handed back to Redis", metadata: ["wheelEntries": "\(dropped)", "released": "\(released)"])
    }
}

extension Timer {
    func recordMilliseconds(_ milliseconds: Int64) { recordNanoseconds(milliseconds * 1_000_000) }
}
