import Logging
import TockCore
import TockRedis

extension RedisConnection.Configuration {
    /// `redis.url` with the configured timeouts.
    public init(_ configuration: TockConfiguration) throws {
        self.init(
            url: try RedisURL(configuration.redis.url),
            connectTimeout: .milliseconds(configuration.redis.connectTimeoutMillis),
            commandTimeout: .milliseconds(configuration.redis.commandTimeoutMillis)
        )
    }
}

extension RedisClient {
    /// A connected client for `redis.url` with the configured timeouts.
    public static func connect(_ configuration: TockConfiguration, poolSize: Int, logger: Logger = Logger(label: "tock.redis")) async throws -> RedisClient {
        let client = RedisClient(configuration: try RedisConnection.Configuration(configuration), poolSize: poolSize, logger: logger)
        try await client.connect()
        return client
    }
}
