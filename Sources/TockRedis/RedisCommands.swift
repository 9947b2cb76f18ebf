// The typed commands Tock uses outside its scripts. Anything else: `RawRedisCommand`.

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
