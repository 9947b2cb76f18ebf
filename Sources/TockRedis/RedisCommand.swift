/// A Redis command and the type of its reply, in the style of valkey-swift's `ValkeyCommand`.
///
/// Conforming types only build their argument vector; the connection sends it and decodes the
/// reply into `Response` (after turning a top-level error reply into `RedisError.server`).
public protocol RedisCommand: Sendable {
    associatedtype Response: RedisReplyDecodable = RedisValue
    /// The command name followed by its arguments.
    var arguments: [RedisArgument] { get }
}

/// Any command, spelled out argument by argument, answered with the raw reply.
public struct RawRedisCommand: RedisCommand {
    public typealias Response = RedisValue
    public var arguments: [RedisArgument]

    public init(_ arguments: [RedisArgument]) { self.arguments = arguments }
    public init(_ arguments: RedisArgument...) { self.arguments = arguments }
}

/// Sends `commands` as one pipeline through `pipeline` and decodes each reply as its command's
/// `Response`: the typed pipelines of `RedisConnection` and `RedisClient`.
func typedPipeline<each Command: RedisCommand>(
    _ commands: repeat each Command,
    pipeline: ([[RedisArgument]]) async throws(RedisError) -> [Result<RedisValue, RedisError>]
) async throws(RedisError) -> (repeat Result<(each Command).Response, RedisError>) {
    var arguments: [[RedisArgument]] = []
    for command in repeat each commands { arguments.append(command.arguments) }
    let replies = try await pipeline(arguments)
    var index = 0
    func decode<C: RedisCommand>(_: C) -> Result<C.Response, RedisError> {
        defer { index += 1 }
        return replies[index].flatMap { value in Result { () throws(RedisError) in try C.Response(from: value) } }
    }
    return (repeat decode(each commands))
}
