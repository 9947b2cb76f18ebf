import Logging
import Metrics
import Synchronization
import TockConcurrency

/// Runs requests on a Redis Cluster: each goes to the master of its first key's slot, a
/// pipeline is split per master and the parts are sent in parallel, and `RedisClusterRouter`
/// decides what a redirection, a busy cluster or a broken connection makes of each request.
final class RedisClusterClient: Sendable {
    private let seeds: [RedisURL]
    private let connection: RedisConnection.Configuration
    private let poolSize: Int
    private let logger: Logger
    private let router: Mutex<RedisClusterRouter>
    private let pools = Mutex<[RedisNodeAddress: RedisNodePool]>([:])
    /// Asks for the slot map on connections of its own, so that a dead node's backoff never
    /// delays a refresh.
    private let mapThread = BlockingThread(name: "redis-map")
    private let counters = RedisClusterCounters()

    /// `connection`: the settings of every node's connections; its URL gives the credentials.
    init(seeds: [RedisURL], connection: RedisConnection.Configuration, settings: RedisClusterRouter.Settings, poolSize: Int, logger: Logger) {
        self.seeds = seeds
        self.connection = connection
        self.poolSize = poolSize
        self.logger = logger
        self.router = Mutex(RedisClusterRouter(seeds: seeds.map(\.address), settings: settings))
    }

    var slots: RedisClusterSlots { router.withLock { $0.slots } }

    var statistics: RedisClusterStatistics { counters.snapshot }

    /// Fetches the map and PINGs every master, so that a wrong address or password shows at start-up.
    func connect() async throws(RedisError) {
        try await refresh(force: true)
        for master in slots.masters { try await pool(master).connect() }
    }

    func close() async {
        for pool in pools.withLock({ Array($0.values) }) { await pool.close() }
        mapThread.shutdown()
    }

    /// Runs `requests`, each on the master of its slot; one result per request, in order.
    /// Unlike on one server, a node that cannot be reached (or whose replicas do not confirm a
    /// WAIT) fails only its own requests, with `.failure(.connection)` (`.notReplicated`): the
    /// other masters' shards go on while one fails over.
    func execute(_ requests: [RedisRequest], idempotent: Bool, waitFor: ReplicaWait?) async -> [Result<RedisValue, RedisError>] {
        guard !requests.isEmpty else { return [] }
        let slots = requests.map(\.slot)
        var results = [Result<RedisValue, RedisError>?](repeating: nil, count: requests.count)
        var attempts = [Int](repeating: 0, count: requests.count)
        // nil: route by the map; else this node (ASKING or not).
        var pending: [(index: Int, node: (address: RedisNodeAddress, asking: Bool)?)] = requests.indices.map { ($0, nil) }
        var wait: Duration = .zero

        while !pending.isEmpty {
            if wait > .zero { try? await Task.sleep(for: wait) }
            wait = .zero
            try? await refresh(force: false)

            var groups: [RedisNodeAddress: [(index: Int, asking: Bool)]] = [:]
            let routing = pending
            pending = []
            router.withLock { router in
                for (index, node) in routing {
                    if let address = node?.address ?? router.target(slot: slots[index]) {
                        groups[address, default: []].append((index, node?.asking ?? false))
                        continue
                    }
                    attempts[index] += 1
                    if case .retry(let after) = router.nextWhileUnserved(attempt: attempts[index]) {
                        pending.append((index, nil))
                        wait = max(wait, after)
                    } else {
                        results[index] = .failure(.server("CLUSTERDOWN no master serves slot \(slots[index] ?? -1)"))
                    }
                }
            }

            let outcomes = await run(groups, requests: requests, waitFor: waitFor)
            for (node, group, outcome) in outcomes {
                switch outcome {
                case .success(let execution):
                    var shortfall: RedisError?
                    if let acked = execution.replicasAcked, let waitFor, acked < waitFor.replicas {
                        logger.warning(
                            "fewer replicas than asked confirmed a write",
                            metadata: ["node": "\(node)", "acked": "\(acked)", "wanted": "\(waitFor.replicas)"])
                        shortfall = .notReplicated(acked: acked, wanted: waitFor.replicas)
                    }
                    router.withLock { router in
                        for ((index, _), reply) in zip(group, execution.results) {
                            // What ran there is not durable: the caller must not act on it.
                            if let shortfall, case .success = reply {
                                results[index] = .failure(shortfall)
                                continue
                            }
                            attempts[index] += 1
                            switch router.next(after: reply, slot: slots[index], attempt: attempts[index]) {
                            case .done: results[index] = reply
                            case .send(let to, let asking):
                                counters.count(asking ? \.asks : \.moves)
                                pending.append((index, (to, asking)))
                            case .retry(let after):
                                counters.count(\.retries)
                                pending.append((index, nil))
                                wait = max(wait, after)
                            }
                        }
                    }
                case .failure(let broken):
                    logger.warning("Redis Cluster node failed", metadata: ["node": "\(node)", "error": "\(broken.error)"])
                    router.withLock { router in
                        for (index, _) in group {
                            attempts[index] += 1
                            switch router.nextAfterConnectionFailure(sent: broken.sent, idempotent: idempotent, attempt: attempts[index]) {
                            case .retry(let after):
                                counters.count(\.retries)
                                pending.append((index, nil))
                                wait = max(wait, after)
                            case .done, .send: results[index] = .failure(broken.error)
                            }
                        }
                    }
                }
            }
        }
        return results.map { $0 ?? .failure(.closed) }
    }

    /// Each node's part in parallel, each on one connection of the node's pool.
    private func run(
        _ groups: [RedisNodeAddress: [(index: Int, asking: Bool)]], requests: [RedisRequest], waitFor: ReplicaWait?
    ) async -> [(RedisNodeAddress, [(index: Int, asking: Bool)], Result<RedisExecution, RedisExecutionFailure>)] {
        func part(_ node: RedisNodeAddress, _ group: [(index: Int, asking: Bool)]) async -> Result<RedisExecution, RedisExecutionFailure> {
            await pool(node).connection().execute(group.map { requests[$0.index] }, asking: group.map(\.asking), waitFor: waitFor)
        }
        if groups.count == 1, let (node, group) = groups.first { return [(node, group, await part(node, group))] }
        return await withTaskGroup(of: (RedisNodeAddress, [(index: Int, asking: Bool)], Result<RedisExecution, RedisExecutionFailure>).self) {
            tasks in
            for (node, group) in groups { tasks.addTask { (node, group, await part(node, group)) } }
            var outcomes: [(RedisNodeAddress, [(index: Int, asking: Bool)], Result<RedisExecution, RedisExecutionFailure>)] = []
            for await outcome in tasks { outcomes.append(outcome) }
            return outcomes
        }
    }

    private func pool(_ node: RedisNodeAddress) -> RedisNodePool {
        pools.withLock { pools in
            if let pool = pools[node] { return pool }
            var configuration = connection
            configuration.url = connection.url.at(node)
            configuration.failFastWhileBackingOff = true
            var logger = logger
            logger[metadataKey: "redis"] = "\(node)"
            let pool = RedisNodePool(configuration: configuration, size: poolSize, logger: logger)
            pools[node] = pool
            return pool
        }
    }

    /// Asks the nodes for the map when the router says it is due (or always, with `force`).
    private func refresh(force: Bool) async throws(RedisError) {
        let now = ContinuousClock.now
        let candidates: [RedisNodeAddress]? = router.withLock { router in
            if force, !router.hasMap { return router.startRefresh(now: now) }
            return router.startRefresh(now: now) ?? (force ? router.slots.nodes + seeds.map(\.address) : nil)
        }
        guard let candidates else { return }
        let credentials = connection.url
        // A node that does not answer must not hold up the refresh for a whole command timeout.
        let timeout = min(connection.connectTimeout, .milliseconds(500))
        let commandTimeout = min(connection.commandTimeout, .seconds(1))
        let fetched: Result<RedisClusterSlots, RedisError> = await mapThread.run {
            var failures: [String] = []
            for node in candidates {
                do {
                    let context = try HiredisContext.open(credentials.at(node), connectTimeout: timeout, commandTimeout: commandTimeout)
                    let slots = try RedisClusterSlots(clusterSlotsReply: try context.call(["CLUSTER", "SLOTS"]), answeredBy: node)
                    if !slots.shards.isEmpty { return .success(slots) }
                    failures.append("\(node): serves no slots")
                } catch {
                    failures.append("\(node): \(error)")
                }
            }
            return .failure(.connection("no cluster node gave the slot map: \(failures.joined(separator: "; "))"))
        }
        counters.count(\.refreshes)
        switch fetched {
        case .success(let slots):
            let before = router.withLock { router in
                defer { router.refreshed(slots, at: .now) }
                return router.slots
            }
            if before.slotCounts != slots.slotCounts {
                logger.info(
                    "Redis Cluster map",
                    metadata: [
                        "masters": "\(slots.masters.map(\.description).joined(separator: ","))",
                        "complete": "\(slots.coversEverySlot)",
                    ])
            }
        case .failure(let error):
            router.withLock { $0.refreshFailed(at: .now) }
            logger.warning("cannot refresh the Redis Cluster map", metadata: ["error": "\(error)"])
            throw error
        }
    }
}

/// What the cluster client did besides plain requests, since it started.
public struct RedisClusterStatistics: Sendable, Equatable {
    /// Requests sent again after a MOVED reply.
    public var moves = 0
    /// Requests sent again with ASKING after an ASK reply.
    public var asks = 0
    /// Requests routed again after TRYAGAIN, CLUSTERDOWN or a broken connection.
    public var retries = 0
    /// Slot map fetches.
    public var refreshes = 0
}

/// The statistics, also counted as metrics: `tock_redis_cluster_redirects_total{kind}`,
/// `tock_redis_cluster_retries_total` and `tock_redis_cluster_map_refreshes_total`.
private final class RedisClusterCounters: Sendable {
    private let values = Mutex(RedisClusterStatistics())
    private let moved = Counter(label: "tock_redis_cluster_redirects_total", dimensions: [("kind", "moved")])
    private let asked = Counter(label: "tock_redis_cluster_redirects_total", dimensions: [("kind", "ask")])
    private let retried = Counter(label: "tock_redis_cluster_retries_total")
    private let refreshed = Counter(label: "tock_redis_cluster_map_refreshes_total")

    func count(_ field: WritableKeyPath<RedisClusterStatistics, Int> & Sendable) {
        values.withLock { $0[keyPath: field] += 1 }
        switch field {
        case \RedisClusterStatistics.moves: moved.increment()
        case \RedisClusterStatistics.asks: asked.increment()
        case \RedisClusterStatistics.retries: retried.increment()
        default: refreshed.increment()
        }
    }

    var snapshot: RedisClusterStatistics { values.withLock { $0 } }
}
