// Typed hash commands. Their replies decode as `Response` with `send`; in a pipeline each comes
// back as a `RedisValue`.

/// Answers the values of the fields, nil for each missing one.
public struct HMGET: RedisCommand {
    public typealias Response = [[UInt8]?]
    public var key: RedisArgument
    public var fields: [RedisArgument]
    public init(_ key: RedisArgument, fields: [RedisArgument]) {
        self.key = key
        self.fields = fields
    }
    public var arguments: [RedisArgument] { ["HMGET", key] + fields }
}

public struct HKEYS: RedisCommand {
    public typealias Response = [String]
    public var key: RedisArgument
    public init(_ key: RedisArgument) { self.key = key }
    public var arguments: [RedisArgument] { ["HKEYS", key] }
}

public struct HLEN: RedisCommand {
    public typealias Response = Int64
    public var key: RedisArgument
    public init(_ key: RedisArgument) { self.key = key }
    public var arguments: [RedisArgument] { ["HLEN", key] }
}

public struct HGETALL: RedisCommand {
    public typealias Response = [String: [UInt8]]
    public var key: RedisArgument
    public init(_ key: RedisArgument) { self.key = key }
    public var arguments: [RedisArgument] { ["HGETALL", key] }
}

public struct HGET: RedisCommand {
    public typealias Response = [UInt8]?
    public var key: RedisArgument
    public var field: RedisArgument
    public init(_ key: RedisArgument, field: RedisArgument) {
        self.key = key
        self.field = field
    }
    public var arguments: [RedisArgument] { ["HGET", key, field] }
}

/// Sets one field.
public struct HSET: RedisCommand {
    public typealias Response = Int64
    public var key: RedisArgument
    public var field: RedisArgument
    public var value: RedisArgument
    public init(_ key: RedisArgument, field: RedisArgument, value: RedisArgument) {
        self.key = key
        self.field = field
        self.value = value
    }
    public var arguments: [RedisArgument] { ["HSET", key, field, value] }
}
