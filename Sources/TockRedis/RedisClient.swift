import Logging
import Metrics

/// Tock's Redis client: one server, a Redis Cluster or the primary Sentinels name
/// (`RedisTopology`), each served by pools of `RedisConnection`s with their own blocking threads.
///
/// Calls on one connection run in submission order; calls spread over several connections do
/// not, so a caller that needs ordering between two calls should pipeline them or use a pool
/// of one (the default). On a cluster, a pipeline is split per master: commands of one slot
/// keep their order, commands of different masters run in parallel.
public final class RedisClient: RedisCommandRunner {
    public struct Configuration: Sendable {
        public var topology: RedisTopology
        /// The settings of every connection; its URL is replaced by each node's.
        public var connection: RedisConnection.Configuration
        /// Replicas that must confirm a durable write (`WAIT`); 0 waits for none.
        public var replicaAcks: Int
        /// How long a durable write waits for them before it fails with `.notReplicated`.
        public var replicaAckTimeout: Duration
        public var cluster: RedisClusterRouter.Settings

        public init(
            topology: RedisTopology, connection: RedisConnection.Configuration? = nil, replicaAcks: Int = 0,
            replicaAckTimeout: Duration = .seconds(1), cluster: RedisClusterRouter.Settings = .init()
        ) {
            self.topology = topology
            self.connection = connection ?? RedisConnection.Configuration(url: topology.urls[0])
            self.connection.url = topology.urls[0]
            self.replicaAcks = replicaAcks
            self.replicaAckTimeout = replicaAckTimeout
            self.cluster = cluster
        }
    }

    private enum Backend: Sendable {
        case node(RedisNodePool)
        case cluster(RedisClusterClient)
    }

    public let configuration: Configuration
    private let backend: Backend

    public init(configuration: Configuration, poolSize: Int = 1, logger: Logger = Logger(label: "tock.redis")) {
        self.configuration = configuration
        var connection = configuration.connection
        var logger = logger
        logger[metadataKey: "redis"] = "\(configuration.topology)"
        switch configuration.topology {
        case .standalone(let url):
            connection.url = url
            backend = .node(RedisNodePool(configuration: connection, size: poolSize, logger: logger))
        case .sentinel(let sentinels, let masterName):
            connection.sentinel = RedisSentinelResolver(
                sentinels: sentinels, masterName: masterName,
                timeout: min(connection.connectTimeout, .seconds(1)))
            backend = .node(RedisNodePool(configuration: connection, size: poolSize, logger: logger))
        case .cluster(let seeds):
            backend = .cluster(
                RedisClusterClient(
                    seeds: seeds, connection: connection, settings: configuration.cluster,
                    poolSize: poolSize, logger: logger))
        }
    }

    /// One server with these connection settings.
    public convenience init(configuration: RedisConnection.Configuration, poolSize: Int = 1, logger: Logger = Logger(label: "tock.redis")) {
        self.init(
            configuration: Configuration(topology: .standalone(configuration.url), connection: configuration), poolSize: poolSize, logger: logger)
    }

    /// Any `RedisTopology` URL with default settings.
    public convenience init(url: String, poolSize: Int = 1, logger: Logger = Logger(label: "tock.redis")) throws(RedisError) {
        self.init(configuration: Configuration(topology: try RedisTopology(url)), poolSize: poolSize, logger: logger)
    }

    /// Whether keys of different hash tags may live on different servers: a script or pipeline
    /// entry must then keep to one slot.
    public var isCluster: Bool {
        if case .cluster = backend { return true }
        return false
    }

    /// The cluster's slot map as last fetched (empty when not a cluster).
    public var clusterSlots: RedisClusterSlots {
        if case .cluster(let cluster) = backend { return cluster.slots }
        return RedisClusterSlots()
    }

    /// Redirections, retries and map refreshes so far (all zero when not a cluster).
    public var clusterStatistics: RedisClusterStatistics {
        if case .cluster(let cluster) = backend { return cluster.statistics }
        return RedisClusterStatistics()
    }

    /// Opens every connection now and PINGs it, so that a wrong address or password shows at start-up.
    public func connect() async throws(RedisError) {
        switch backend {
        case .node(let pool): try await pool.connect()
        case .cluster(let cluster): try await cluster.connect()
        }
    }

    public func close() async {
        switch backend {
        case .node(let pool): await pool.close()
        case .cluster(let cluster): await cluster.close()
        }
    }

    /// See `RedisCommandRunner.run`. `durable: true` waits for `configuration.replicaAcks`
    /// replicas to confirm the writes (`WAIT`, on the same connection) and throws `.notReplicated`
    /// when fewer did in time: the writes ran, but a failover could still lose them. On a cluster,
    /// a master that cannot be reached or whose replicas do not confirm fails only its own
    /// requests' results (see `RedisClusterClient.execute`).
    public func run(_ requests: [RedisRequest], idempotent: Bool, durable: Bool) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        guard !requests.isEmpty else { return [] }
        let waitFor =
            durable && configuration.replicaAcks > 0
            ? ReplicaWait(replicas: configuration.replicaAcks, timeoutMillis: Int(configuration.replicaAckTimeout / .milliseconds(1)))
            : nil
        switch backend {
        case .node(let pool):
            switch await pool.connection().execute(requests, asking: [], waitFor: waitFor, retryOnce: idempotent) {
            case .success(let execution):
                if let acked = execution.replicasAcked, let waitFor, acked < waitFor.replicas {
                    Self.notReplicated.increment()
                    throw .notReplicated(acked: acked, wanted: waitFor.replicas)
                }
                return execution.results
            case .failure(let failure): throw failure.error
            }
        case .cluster(let cluster):
            let results = await cluster.execute(requests, idempotent: idempotent, waitFor: waitFor)
            if results.contains(where: { if case .failure(.notReplicated) = $0 { return true } else { return false } }) {
                Self.notReplicated.increment()
            }
            return results
        }
    }

    /// Durable calls that fewer replicas than `replicaAcks` confirmed in time.
    private static let notReplicated = Counter(label: "tock_redis_not_replicated_total")

}
