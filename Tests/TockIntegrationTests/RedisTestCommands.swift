import TockRedis

// Typed commands only the tests use: they check the client's reply decoding.

/// Answers how many of the keys exist (a key named twice counts twice).
public struct EXISTS: RedisCommand {
    public typealias Response = Int64
    public var keys: [RedisArgument]
    public init(_ keys: [RedisArgument]) { self.keys = keys }
    public init(_ keys: RedisArgument...) { self.keys = keys }
    public var arguments: [RedisArgument] { ["EXISTS"] + keys }
}

public struct INCR: RedisCommand {
    public typealias Response = Int64
    public var key: RedisArgument
    public init(_ key: RedisArgument) { self.key = key }
    public var arguments: [RedisArgument] { ["INCR", key] }
}

/// Answers the number of fields that were added (not updated).
public struct HSET: RedisCommand {
    public typealias Response = Int64
    public var key: RedisArgument
    public var fields: [(field: RedisArgument, value: RedisArgument)]
    public init(_ key: RedisArgument, fields: [(field: RedisArgument, value: RedisArgument)]) {
        self.key = key
        self.fields = fields
    }
    public var arguments: [RedisArgument] { [("HSET" as RedisArgument), key] + fields.flatMap { [$0.field, $0.value] } }
}
