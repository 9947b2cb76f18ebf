import Logging
import Synchronization
import TockCore
import TockRedis

/// Tock's durable state in Redis (key layout: `StoreKeys`; format `formatVersion`). Per shard:
/// the messages, their queue by fire time, the owner with its claimed-up-to time, delivery locks
/// (one per shard and fired batch) with their leases, attempt counts of failed attempts,
/// tombstones and per-partition watermarks. Every mutation is a Lua script call; one call carries
/// the sections of many shards.
public final class ScheduleStore: Sendable {
    /// The layout's version, kept in `<prefix>:meta`: 2 was the queue/lock layout; 3 adds the
    /// store time to each message and writes tombstones when a message is stored, in 8192 sets
    /// per shard and window.
    public static let formatVersion = 3

    public let client: RedisClient
    public let keys: StoreKeys
    public let shardMap: ShardMap
    public let retentionMillis: Int64
    /// The cold index counts its messages per hour slot of this width (`store.coldHourSlot`).
    public let coldHourSlotMillis: Int64
    let windows: TombstoneWindows
    let scripts: StoreScripts
    let logger: Logger
    private let lockSequence = Atomic<Int>(0)
    /// Tombstone sets this process already gave their expiry (of the current window only).
    private let knownExpiries: Mutex<KnownExpiries>
    /// Shards whose durable writes fewer replicas confirmed than asked; a worker's stores share one.
    public let replicaWaits: ReplicaWaits

    public init(
        client: RedisClient, keyPrefix: String, shardCount: Int, retentionMillis: Int64, coldHourSlotMillis: Int64 = 3_600_000,
        replicaWaits: ReplicaWaits = ReplicaWaits(), logger: Logger = Logger(label: "tock.store")
    ) throws {
        self.client = client
        self.coldHourSlotMillis = coldHourSlotMillis
        self.keys = StoreKeys(prefix: keyPrefix)
        self.shardMap = ShardMap(shardCount: shardCount)
        self.retentionMillis = retentionMillis
        self.windows = TombstoneWindows(retentionMillis: retentionMillis)
        self.knownExpiries = Mutex(KnownExpiries(shardCount: shardCount))
        self.scripts = try StoreScripts.load()
        self.replicaWaits = replicaWaits
        self.logger = logger
    }

    /// The store as `configuration` describes it (`store.keyPrefix`, `store.shards`, `dedup.retention`).
    public convenience init(
        client: RedisClient, configuration: TockConfiguration, replicaWaits: ReplicaWaits = ReplicaWaits(),
        logger: Logger = Logger(label: "tock.store")
    ) throws {
        try self.init(
            client: client, keyPrefix: configuration.store.keyPrefix, shardCount: configuration.store.shards,
            retentionMillis: configuration.dedup.retentionMillis, coldHourSlotMillis: configuration.store.coldHourSlotMillis,
            replicaWaits: replicaWaits, logger: logger)
    }

    public var keyPrefix: String { keys.prefix }

    /// The cluster's side of this store (heartbeats, leadership, the assignment).
    public var cluster: ClusterStore { ClusterStore(store: self) }

    /// Records the shard count and format on first start; refuses a different count, or data
    /// written in another format, later.
    public func verifyShardCount() async throws(StoreError) {
        let stored = try await run(MetaCall(script: scripts.meta, keys: keys, shards: shardMap.shardCount, format: Self.formatVersion))
        if stored.format != String(Self.formatVersion) {
            throw StoreError.formatMismatch(expected: Self.formatVersion, stored: stored.format ?? "1")
        }
        guard let count = stored.shards else { throw StoreError.corrupt("\(keys.meta) has no shard count") }
        if count != shardMap.shardCount { throw StoreError.shardCountMismatch(configured: shardMap.shardCount, stored: count) }
    }

    // MARK: - Ingest

    /// Stores batches of many shards in one call. Entries of one partition must be in offset
    /// order within a shard's batch. Entries of shards `claimAs` owns that are due by the owner's
    /// claimed-up-to time come back `.claimed`: the caller puts them in its wheel. `watermarks`
    /// describes each input partition of the batch ("topic/partition"); one it omits is taken for
    /// the first incarnation, with no fingerprint.
    public func store(
        _ batches: [Int: [StoreEntry]],
        watermarks: [String: BatchWatermark] = [:],
        nowMillis: Int64,
        claimAs ownerships: [Int: ShardOwnership] = [:]
    ) async throws(StoreError) -> [Int: [StoreOutcome]] {
        guard !batches.isEmpty else { return [:] }
        let sections = batches.keys.sorted().map { StoreRequestsCall.Section(shard: $0, owner: ownerships[$0], entries: batches[$0]!) }
        // Idempotent: a retried batch finds its offsets under the watermark.
        let (calls, window) = tombstoningCalls(sections, nowMillis: nowMillis) { sections, known in
            StoreRequestsCall(
                script: scripts.store, keys: keys, windows: windows, hourSlotMillis: coldHourSlotMillis, nowMillis: nowMillis, sections: sections,
                watermarks: watermarks,
                expiresKnown: known)
        }
        var outcomes: [Int: [StoreOutcome]] = [:]
        for (call, reply) in zip(calls, try await runEach(calls, durable: true, touched: calls.map { $0.sections.map(\.shard) })) {
            outcomes.merge(reply) { $1 }
            noteExpiring(call.expiring(reply), window: window)
        }
        return outcomes
    }

    /// Sections of many shards, as one script call may take them: all in one on a single server;
    /// one per shard on a cluster, where a call may touch only one slot.
    private func slotGroups<Section>(_ sections: [Section]) -> [[Section]] {
        client.isCluster ? sections.map { [$0] } : [sections]
    }

    /// The calls of a script that writes tombstones, one per slot group of `parts`, each built
    /// knowing which tombstone sets of the current window this process already gave their expiry
    /// (under one lock for them all, not one per set); and that window, for `noteExpiring`.
    private func tombstoningCalls<Part: Sendable, Call: Sendable>(
        _ parts: [Part], nowMillis: Int64, _ build: ([Part], (TombstoneSet) -> Bool) -> Call
    ) -> (calls: [Call], window: Int64) {
        let window = windows.window(atMillis: nowMillis)
        let calls = knownExpiries.withLock { known in
            known.enter(window: window)
            return slotGroups(parts).map { build($0) { known.contains($0) } }
        }
        return (calls, window)
    }

    /// A set whose expiry a call set needs none again in this window.
    private func noteExpiring(_ sets: [TombstoneSet], window: Int64) {
        guard !sets.isEmpty else { return }
        knownExpiries.withLock { known in
            known.enter(window: window)
            for set in sets { known.insert(set) }
        }
    }

    // MARK: - Claim and fire

    /// Claims, per owned shard, up to `limit` messages due by `horizon` that its wheel lacks. A
    /// fenced shard yields `.failure(.fenced)`; the rest succeed independently.
    /// `token` and `ownGraceMillis`: the caller's own expired locks are reaped only that long after
    /// their lease (it is alive, so they are still being delivered).
    public func claim(
        _ ownerships: [Int: ShardOwnership],
        nowMillis: Int64,
        horizon: Int64,
        limit: Int,
        token: String = "",
        ownGraceMillis: Int64 = 0
    ) async throws(StoreError) -> [Int: Result<[(id: String, dueMillis: Int64)], StoreError>] {
        guard !ownerships.isEmpty else { return [:] }
        let calls = slotGroups(ownerships.sorted { $0.key < $1.key }).map { group in
            ClaimCall(
                script: scripts.claim, keys: keys, ownerships: Dictionary(uniqueKeysWithValues: group), nowMillis: nowMillis, horizon: horizon,
                limit: limit, token: token, ownGraceMillis: ownGraceMillis)
        }
        return try await settled(calls, shards: \.shards)
    }

    /// Up to `limit` entries per shard of the queues of `shards` whose fire time is before
    /// `dueBefore`. The owner's wheel locks every claimed entry `delivery.lockAhead` before it is
    /// due, so an entry still queued well after that is one no wheel holds: a claim whose reply
    /// was lost (a store, claim or finish call that Redis applied but whose answer never came).
    public func overdueClaims(_ shards: [Int], dueBefore: Int64, limit: Int) async throws(StoreError) -> [Int: [(id: String, dueMillis: Int64)]] {
        let shards = shards.sorted()
        guard !shards.isEmpty else { return [:] }
        let commands = shards.map { shard in
            ZRANGEBYSCOREBelow(RedisArgument(keys.queue(shard)), below: dueBefore, count: limit) as any RedisCommand
        }
        let results = try await read(commands)
        var overdue: [Int: [(id: String, dueMillis: Int64)]] = [:]
        for (shard, result) in zip(shards, results) {
            guard case .array(let items) = try unwrap(result, shard: shard) else { throw .corrupt("queue range") }
            let entries = try SectionReplies.pairs(items[...])
            if !entries.isEmpty { overdue[shard] = entries }
        }
        return overdue
    }

    /// Hands the shard's claims back: its next claim starts from the beginning of its queue.
    /// Returns how many queued messages had been claimed.
    public func release(shard: Int, as owner: ShardOwnership) async throws(StoreError) -> Int {
        try await run(ReleaseCall(script: scripts.release, keys: keys, shard: shard, owner: owner), shard: shard)
    }

    /// Takes one delivery lock per shard over fired entries (`<token>:<n>`), in one call. Entries no
    /// longer queued at that fire time, or due after `dueBy`, are left out of the result. The
    /// worker passes its clock plus `delivery.lockAhead` as `dueBy`, and publishes at the due time.
    public func begin(
        _ entries: [Int: [(id: String, fireMillis: Int64)]],
        as ownerships: [Int: ShardOwnership],
        token: String,
        dueBy: Int64,
        leaseUntil: Int64
    ) async throws(StoreError) -> [Int: Result<[LockedDelivery], StoreError>] {
        let sections = entries.keys.sorted().compactMap { shard -> BeginCall.Section? in
            guard let owner = ownerships[shard], let fired = entries[shard], !fired.isEmpty else { return nil }
            let lock = LockID.make(token: token, sequence: lockSequence.wrappingAdd(1, ordering: .relaxed).newValue)
            return BeginCall.Section(shard: shard, owner: owner, lock: lock, entries: fired)
        }
        guard !sections.isEmpty else { return [:] }
        let calls = slotGroups(sections).map { BeginCall(script: scripts.begin, keys: keys, dueBy: dueBy, leaseUntil: leaseUntil, sections: $0) }
        // Durable: a lock a failover lost would let the new primary fire the message again as a
        // first attempt, which is never read back.
        return try await settled(calls, shards: { $0.sections.map(\.shard) }, idempotent: false, durable: true)
    }

    /// Records what became of the deliveries under each lock, in one call.
    public func finish(_ locks: [LockOutcome], as ownerships: [Int: ShardOwnership], nowMillis: Int64) async throws(StoreError) -> [FinishedLock] {
        try await finishEach(locks, as: ownerships, nowMillis: nowMillis).map { result throws(StoreError) in try result.get() }
    }

    /// `finish`, with a result per lock, in order: on a cluster, the locks of a master that cannot
    /// be reached fail alone (on one server, all fail or none).
    public func finishEach(_ locks: [LockOutcome], as ownerships: [Int: ShardOwnership], nowMillis: Int64) async throws(StoreError) -> [Result<
        FinishedLock, StoreError
    >] {
        guard !locks.isEmpty else { return [] }
        let (calls, window) = tombstoningCalls(locks, nowMillis: nowMillis) { locks, known in
            FinishCall(
                script: scripts.finish, keys: keys, windows: windows, nowMillis: nowMillis, ownerships: ownerships, locks: locks,
                expiresKnown: known)
        }
        let replies = try await replies(
            calls, shards: calls.map { $0.locks.first?.shard ?? -1 }, durable: true, touched: calls.map { $0.locks.map(\.shard) })
        var finished: [Result<FinishedLock, StoreError>] = []
        for (call, reply) in zip(calls, replies) {
            switch reply {
            case .success(let locks):
                finished += locks.map { .success($0) }
                noteExpiring(call.expiring(locks), window: window)
            case .failure(let error):
                finished += call.locks.map { _ in .failure(error) }
            }
        }
        return finished
    }

    /// Extends the leases of the caller's locks (per shard) to `leaseUntil`; returns, per shard,
    /// how many still existed. A lock whose lease ran out and was reaped is gone for good. A shard
    /// whose renewal failed (its cluster master is down) is left out; all failing throws.
    public func renew(_ locks: [Int: [String]], leaseUntil: Int64) async throws(StoreError) -> [Int: Int] {
        let shards = locks.keys.sorted().filter { !(locks[$0]?.isEmpty ?? true) }
        guard !shards.isEmpty else { return [:] }
        let commands = shards.map { shard in
            ZADDExisting(RedisArgument(keys.leases(shard)), members: locks[shard]!.map { (leaseUntil, RedisArgument($0)) }) as any RedisCommand
        }
        let results: [Result<RedisValue, RedisError>]
        // Durable: a renewal only a deposed primary saw would let the worker publish under a lock
        // the new primary already gave up.
        do { results = try await client.pipeline(arguments: commands.map(\.arguments), idempotent: true, durable: true) } catch {
            noteReplication(.failure(error), shards: shards)
            throw .redis(error)
        }
        for (shard, result) in zip(shards, results) { noteReplication(result, shards: [shard]) }
        var renewed: [Int: Int] = [:]
        var failure: StoreError?
        for (shard, result) in zip(shards, results) {
            do throws(StoreError) {
                if case .integer(let count) = try unwrap(result, shard: shard) { renewed[shard] = Int(count) }
            } catch {
                failure = error
            }
        }
        if renewed.isEmpty, let failure { throw failure }
        return renewed
    }

    // MARK: - Ownership

    /// Makes `worker` the owner of `shards` at new epochs (standalone mode).
    public func takeOwnership(of shards: [Int], worker: String) async throws(StoreError) -> [Int: ShardOwnership] {
        var owned: [Int: ShardOwnership] = [:]
        let calls = shards.map { OwnCall(script: scripts.own, keys: keys, shard: $0, worker: worker) }
        for (shard, epoch) in zip(shards, try await runEach(calls, shards: shards, idempotent: false)) {
            owned[shard] = ShardOwnership(worker: worker, epoch: epoch)
        }
        return owned
    }

    /// Takes or renews a lease; returns nil when the caller holds it, else who holds it and for how long.
    public func acquireLease(_ name: String, holder: String, ttlMillis: Int64) async throws(StoreError) -> LeaseHolder? {
        try await run(LeaseCall(script: scripts.lease, key: keys.lease(name), holder: holder, ttlMillis: ttlMillis))
    }

    /// Publish slots for records of a topic limited to `perSecond`, one per due time (ascending):
    /// any `perSecond` + 1 consecutive slots span at least `periodMillis`. Records whose slot would
    /// lie beyond `nowMillis + horizonMillis` get none and are told when to come back.
    public func reserveSlots(
        topic: String, perSecond: Int, periodMillis: Int64 = RateSlots.defaultPeriodMillis, nowMillis: Int64,
        horizonMillis: Int64, dueTimes: [Int64]
    ) async throws(StoreError) -> RateSlots {
        try await run(
            RateCall(
                script: scripts.rate, keys: keys, topic: topic, perSecond: perSecond, periodMillis: periodMillis,
                nowMillis: nowMillis, horizonMillis: horizonMillis, dueTimes: dueTimes))
    }

    public func releaseLease(_ name: String, holder: String) async throws(StoreError) {
        try await run(UnleaseCall(script: scripts.unlease, key: keys.lease(name), holder: holder))
    }

    // MARK: - Operator calls

    public func status(of id: String, nowMillis: Int64, idWasGiven: Bool = true) async throws(StoreError) -> MessageStatus {
        let shard = shardMap.shard(of: id)
        return try await run(
            StatusCall(
                script: scripts.status, keys: keys, windows: windows, hourSlotMillis: coldHourSlotMillis, shard: shard, id: id,
                idWasGiven: idWasGiven,
                nowMillis: nowMillis), shard: shard)
    }

    /// What the store knows of `id`: a message or a series; an occurrence's published id
    /// (`<series>@<due>`) that names no message answers with its series (`occurrenceOf`).
    public func lookUp(_ id: String, nowMillis: Int64) async throws(StoreError) -> (status: MessageStatus, occurrenceOf: String?) {
        let status = try await status(of: id, nowMillis: nowMillis)
        if status.state == .unknown, let occurrence = OccurrenceKey.parsePublished(id) {
            let series = try await self.status(of: occurrence.series, nowMillis: nowMillis)
            if series.state != .unknown { return (series, occurrence.series) }
        }
        return (status, nil)
    }

    // MARK: - Plumbing

    /// Sends read commands in one pipeline (one per server on a cluster), retried once after a
    /// reconnect.
    func read(_ commands: [any RedisCommand]) async throws(StoreError) -> [Result<RedisValue, RedisError>] {
        do { return try await client.pipeline(commands, idempotent: true) } catch { throw .redis(error) }
    }

    /// Runs one call; `shard` names the shard a FENCED error is about.
    func run<Call: StoreScriptCall>(_ call: Call, shard: Int = -1, idempotent: Bool = true) async throws(StoreError) -> Call.Reply {
        try await runEach([call], shards: [shard], idempotent: idempotent)[0]
    }

    /// Runs calls in one pipeline (one per server on a cluster); `shards` names the shard of each
    /// call, for FENCED errors. `durable`: see `RedisClient.pipelineEvalSHA`.
    func runEach<Call: StoreScriptCall>(
        _ calls: [Call], shards: [Int]? = nil, idempotent: Bool = true, durable: Bool = false, touched: [[Int]]? = nil
    ) async throws(StoreError) -> [Call.Reply] {
        try await replies(
            calls, shards: shards ?? Array(repeating: -1, count: calls.count), idempotent: idempotent, durable: durable, touched: touched
        ).map { reply throws(StoreError) in try reply.get() }
    }

    /// Runs calls of per-shard results in one pipeline and merges their replies; a call that
    /// failed (on a cluster: its master cannot be reached) fails each of its shards, not the rest.
    private func settled<Call: StoreScriptCall, Value>(
        _ calls: [Call], shards: (Call) -> [Int], idempotent: Bool = true, durable: Bool = false
    ) async throws(StoreError) -> [Int: Result<Value, StoreError>] where Call.Reply == [Int: Result<Value, StoreError>] {
        var merged: [Int: Result<Value, StoreError>] = [:]
        let replies = try await replies(
            calls, shards: calls.map { shards($0).first ?? -1 }, idempotent: idempotent, durable: durable, touched: calls.map(shards))
        for (call, reply) in zip(calls, replies) {
            switch reply {
            case .success(let reply): merged.merge(reply) { $1 }
            case .failure(let error): for shard in shards(call) { merged[shard] = .failure(error) }
            }
        }
        return merged
    }

    /// Each call's decoded reply or error, from one pipeline; throws only when the pipeline as a
    /// whole failed (one server's connection). `shards`: the shard each call's FENCED is about;
    /// `touched`: the shards each durable call writes, for `replicaWaits`.
    private func replies<Call: StoreScriptCall>(
        _ calls: [Call], shards: [Int], idempotent: Bool = true, durable: Bool = false, touched: [[Int]]? = nil
    ) async throws(StoreError) -> [Result<Call.Reply, StoreError>] {
        guard !calls.isEmpty else { return [] }
        let results: [Result<RedisValue, RedisError>]
        do { results = try await client.pipelineEvalSHA(calls.map(\.redisCall), idempotent: idempotent, durable: durable) } catch {
            if durable { noteReplication(.failure(error), shards: (touched ?? shards.map { [$0] }).flatMap { $0 }) }
            throw .redis(error)
        }
        if durable {
            for (index, result) in results.enumerated() { noteReplication(result, shards: touched?[index] ?? [shards[index]]) }
        }
        return zip(calls, zip(shards, results)).map { call, item in
            Result { () throws(StoreError) in try call.decode(try unwrap(item.1, shard: item.0)) }
        }
    }

    /// A durable write's outcome for the shards it wrote: fewer replicas than asked, or confirmed.
    private func noteReplication(_ result: Result<RedisValue, RedisError>, shards: [Int]) {
        guard client.configuration.replicaAcks > 0 else { return }
        switch result {
        case .failure(.notReplicated(let acked, let wanted)): replicaWaits.noteShortfall(shards: shards, acked: acked, wanted: wanted)
        case .success(.error): break
        case .success: replicaWaits.noteConfirmed(shards: shards)
        case .failure: break
        }
    }

    func unwrap(_ result: Result<RedisValue, RedisError>, shard: Int) throws(StoreError) -> RedisValue {
        switch result {
        case .success(.error(let message)), .failure(.server(let message)):
            if message.hasPrefix("FENCED") { throw .fenced(shard: shard, detail: message) }
            throw .redis(.server(message))
        case .success(let value): return value
        case .failure(let error): throw .redis(error)
        }
    }
}
