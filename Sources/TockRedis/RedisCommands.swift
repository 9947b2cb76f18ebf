// The handful of typed commands Tock and its tests use. Anything else: `RawRedisCommand`.

public struct PING: RedisCommand {
    public typealias Response = String
    public var message: RedisArgument?
    public init(_ message: RedisArgument? = nil) { self.message = message }
    public var arguments: [RedisArgument] { ["PING"] + (message.map { [$0] } ?? []) }
}

public struct GET: RedisCommand {
    public typealias Response = [UInt8]?
    public var key: RedisArgument
    public init(_ key: RedisArgument) { self.key = key }
    public var arguments: [RedisArgument] { ["GET", key] }
}

public struct SET: RedisCommand {
    public enum Condition: Sendable, Hashable {
        /// NX: only set a missing key.
        case ifNotExists
        /// XX: only set an existing key.
        case ifExists
    }

    /// `true` when the key was set; `false` when a condition prevented it (null reply).
    public typealias Response = Bool
    public var key: RedisArgument
    public var value: RedisArgument
    /// PX: expire after this many milliseconds.
    public var px: Int64?
    public var condition: Condition?

    public init(_ key: RedisArgument, _ value: RedisArgument, px: Int64? = nil, condition: Condition? = nil) {
        self.key = key
        self.value = value
        self.px = px
        self.condition = condition
    }

    public var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = ["SET", key, value]
        if let px { arguments += ["PX", RedisArgument(px)] }
        switch condition {
        case .ifNotExists: arguments.append("NX")
        case .ifExists: arguments.append("XX")
        case nil: break
        }
        return arguments
    }
}

/// Answers the number of keys removed.
public struct DEL: RedisCommand {
    public typealias Response = Int64
    public var keys: [RedisArgument]
    public init(_ keys: [RedisArgument]) { self.keys = keys }
    public init(_ keys: RedisArgument...) { self.keys = keys }
    public var arguments: [RedisArgument] { ["DEL"] + keys }
}

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

public struct HGETALL: RedisCommand {
    public typealias Response = [String: [UInt8]]
    public var key: RedisArgument
    public init(_ key: RedisArgument) { self.key = key }
    public var arguments: [RedisArgument] { ["HGETALL", key] }
}

public enum SCRIPT {
    /// Answers the script's SHA1.
    public struct LOAD: RedisCommand {
        public typealias Response = String
        public var source: String
        public init(_ source: String) { self.source = source }
        public var arguments: [RedisArgument] { ["SCRIPT", "LOAD", RedisArgument(source)] }
    }

    public struct FLUSH: RedisCommand {
        public typealias Response = RedisValue
        public init() {}
        public var arguments: [RedisArgument] { ["SCRIPT", "FLUSH"] }
    }
}
