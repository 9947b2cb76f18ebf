import Logging
import Synchronization

/// A fixed set of `RedisConnection`s to one server, each with its own blocking thread; calls
/// go to the connections in turn.
///
/// Calls on one connection run in submission order; calls spread over several connections do
/// not, so a caller that needs ordering between two calls should pipeline them or use a pool
/// of one (the default).
public final class RedisClient: Sendable {
    public let connections: [RedisConnection]
    private let nextIndex = Atomic<Int>(0)

    public init(configuration: RedisConnection.Configuration, poolSize: Int = 1, logger: Logger = Logger(label: "tock.redis")) {
        precondition(poolSize >= 1, "a Redis pool needs at least one connection")
        connections = (0..<poolSize).map { index in
            var logger = logger
            logger[metadataKey: "redis-connection"] = "\(index)"
            return RedisConnection(configuration: configuration, logger: logger)
        }
    }

    public convenience init(url: String, poolSize: Int = 1, logger: Logger = Logger(label: "tock.redis")) throws(RedisError) {
        self.init(configuration: .init(url: try RedisURL(url)), poolSize: poolSize, logger: logger)
    }

    public var configuration: RedisConnection.Configuration { connections[0].configuration }

    /// The connection the next call would use; take one to run several calls in order on it.
    public func connection() -> RedisConnection {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return connections[Int(UInt(bitPattern: index) % UInt(connections.count))]
    }

    /// Opens every connection now and PINGs it, so that a wrong address or password shows at start-up.
    public func connect() async throws(RedisError) {
        for connection in connections { try await connection.connect() }
    }

    public func close() async {
        for connection in connections { await connection.close() }
    }

    /// See `RedisConnection.send`. `idempotent: true` re-sends the command once after a
    /// reconnect when the connection broke under it (a Redis restart), instead of throwing.
    public func send<Command: RedisCommand>(_ command: Command, idempotent: Bool = false) async throws(RedisError) -> Command.Response {
        try await connection().send(command, idempotent: idempotent)
    }

    public func send<Command: RedisCommand, Response: RedisReplyDecodable>(
        _ command: Command, as type: Response.Type, idempotent: Bool = false
    ) async throws(RedisError) -> Response {
        try await connection().send(command, as: type, idempotent: idempotent)
    }

    public func pipeline(_ commands: [any RedisCommand], idempotent: Bool = false) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        try await connection().pipeline(commands, idempotent: idempotent)
    }

    public func pipeline(arguments: [[RedisArgument]], idempotent: Bool = false) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        try await connection().pipeline(arguments: arguments, idempotent: idempotent)
    }

    public func pipeline<each Command: RedisCommand>(
        _ commands: repeat each Command, idempotent: Bool = false
    ) async throws(RedisError) -> (repeat Result<(each Command).Response, RedisError>) {
        try await connection().pipeline(repeat each commands, idempotent: idempotent)
    }

    public func evalSHA(
        _ script: RedisScript, keys: [RedisArgument] = [], args: [RedisArgument] = [], idempotent: Bool = false
    ) async throws(RedisError) -> RedisValue {
        try await connection().evalSHA(script, keys: keys, args: args, idempotent: idempotent)
    }

    public func evalSHA<Response: RedisReplyDecodable>(
        _ script: RedisScript, keys: [RedisArgument] = [], args: [RedisArgument] = [], as type: Response.Type, idempotent: Bool = false
    ) async throws(RedisError) -> Response {
        try await connection().evalSHA(script, keys: keys, args: args, as: type, idempotent: idempotent)
    }

    public func pipelineEvalSHA(_ calls: [RedisScriptCall], idempotent: Bool = false) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        try await connection().pipelineEvalSHA(calls, idempotent: idempotent)
    }

    public func pipelineEvalSHA(
        _ calls: [(script: RedisScript, keys: [RedisArgument], args: [RedisArgument])], idempotent: Bool = false
    ) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        try await connection().pipelineEvalSHA(calls, idempotent: idempotent)
    }
}
