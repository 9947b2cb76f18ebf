// Typed set commands.

/// One step of a set's cursor: the next cursor ("0" when done) and some members.
public struct SSCAN: RedisCommand {
    public var key: RedisArgument
    public var cursor: String
    public var count: Int
    public init(_ key: RedisArgument, cursor: String, count: Int) {
        self.key = key
        self.cursor = cursor
        self.count = count
    }
    public var arguments: [RedisArgument] { ["SSCAN", key, RedisArgument(cursor), "COUNT", RedisArgument(String(count))] }
}

public struct SCARD: RedisCommand {
    public typealias Response = Int64
    public var key: RedisArgument
    public init(_ key: RedisArgument) { self.key = key }
    public var arguments: [RedisArgument] { ["SCARD", key] }
}
