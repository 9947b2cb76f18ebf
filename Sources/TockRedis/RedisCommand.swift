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
