// Typed sorted-set commands. Their replies decode as `Response` with `send`; in a pipeline each
// comes back as a `RedisValue`.

/// `ZADD key XX CH score member ...`: updates the scores of existing members only; answers how
/// many changed.
public struct ZADDExisting: RedisCommand {
    public typealias Response = Int64
    public var key: RedisArgument
    public var members: [(score: Int64, member: RedisArgument)]
    public init(_ key: RedisArgument, members: [(score: Int64, member: RedisArgument)]) {
        self.key = key
        self.members = members
    }
    public var arguments: [RedisArgument] { ["ZADD", key, "XX", "CH"] + members.flatMap { [RedisArgument($0.score), $0.member] } }
}

/// Answers how many members score at most `max`.
public struct ZCOUNT: RedisCommand {
    public typealias Response = Int64
    public var key: RedisArgument
    public var max: Int64
    public init(_ key: RedisArgument, atMost max: Int64) {
        self.key = key
        self.max = max
    }
    public var arguments: [RedisArgument] { ["ZCOUNT", key, "-inf", RedisArgument(max)] }
}

/// `ZRANGE key start stop WITHSCORES`: members by rank, each followed by its score.
public struct ZRANGEWithScores: RedisCommand {
    public typealias Response = RedisValue
    public var key: RedisArgument
    public var start: Int
    public var stop: Int
    public init(_ key: RedisArgument, start: Int, stop: Int) {
        self.key = key
        self.start = start
        self.stop = stop
    }
    public var arguments: [RedisArgument] { ["ZRANGE", key, RedisArgument(start), RedisArgument(stop), "WITHSCORES"] }
}

/// `ZRANGEBYSCORE key -inf (before WITHSCORES LIMIT 0 count`: the lowest-scored members below
/// `before`, each followed by its score.
public struct ZRANGEBYSCOREBelow: RedisCommand {
    public typealias Response = RedisValue
    public var key: RedisArgument
    public var before: Int64
    public var count: Int
    public init(_ key: RedisArgument, below before: Int64, count: Int) {
        self.key = key
        self.before = before
        self.count = count
    }
    public var arguments: [RedisArgument] {
        ["ZRANGEBYSCORE", key, "-inf", RedisArgument("(\(before)"), "WITHSCORES", "LIMIT", "0", RedisArgument(count)]
    }
}
