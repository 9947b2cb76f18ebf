import Logging
import TockCore
import TockRedis

extension RedisClient.Configuration {
    /// `redis.url` (one server, a cluster or Sentinel) with the configured timeouts and
    /// `store.replicaAcks`.
    public init(_ configuration: TockConfiguration) throws {
        let topology = try RedisTopology(configuration.redis.url)
        self.init(
            topology: topology,
            connection: RedisConnection.Configuration(
                url: topology.urls[0],
                connectTimeout: .milliseconds(configuration.redis.connectTimeoutMillis),
                commandTimeout: .milliseconds(configuration.redis.commandTimeoutMillis)
            ),
            replicaAcks: configuration.store.replicaAcks,
            replicaAckTimeout: .milliseconds(configuration.store.replicaAckTimeoutMillis)
        )
    }
}

extension RedisClient {
    /// A connected client for `redis.url` with the configured timeouts.
    public static func connect(_ configuration: TockConfiguration, poolSize: Int, logger: Logger = Logger(label: "tock.redis")) async throws
        -> RedisClient
    {
        let client = RedisClient(configuration: try RedisClient.Configuration(configuration), poolSize: poolSize, logger: logger)
        try await client.connect()
        return client
    }
}
