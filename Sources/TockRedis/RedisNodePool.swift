import Logging
import Synchronization

/// A fixed set of `RedisConnection`s to one server (or to the primary Sentinels name), each
/// with its own blocking thread; calls go to the connections in turn.
final class RedisNodePool: Sendable {
    let connections: [RedisConnection]
    private let nextIndex = Atomic<Int>(0)

    init(configuration: RedisConnection.Configuration, size: Int, logger: Logger) {
        precondition(size >= 1, "a Redis pool needs at least one connection")
        connections = (0..<size).map { index in
            var logger = logger
            logger[metadataKey: "redis-connection"] = "\(index)"
            return RedisConnection(configuration: configuration, logger: logger)
        }
    }

    /// The connection the next call would use.
    func connection() -> RedisConnection {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return connections[Int(UInt(bitPattern: index) % UInt(connections.count))]
    }

    func connect() async throws(RedisError) {
        for connection in connections { try await connection.connect() }
    }

    func close() async {
        for connection in connections { await connection.close() }
    }
}
