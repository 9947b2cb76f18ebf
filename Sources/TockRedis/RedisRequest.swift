/// One command or script call of a pipeline, as the cluster client routes it.
public enum RedisRequest: Sendable {
    case command([RedisArgument])
    case script(RedisScriptCall)

    /// The slot that decides where it runs; nil for a command without keys (any node serves it).
    public var slot: Int? {
        switch self {
        case .command(let arguments):
            return RedisCommandKeys.firstKey(of: arguments).map { RedisHashSlot.slot(of: $0.bytes) }
        case .script(let call):
            return call.keys.first.map { RedisHashSlot.slot(of: $0) }
        }
    }
}

/// Where a command's first key is, for the commands Tock and its tools send. A cluster routes a
/// command by its first key; Redis itself rejects one whose keys span slots (CROSSSLOT).
public enum RedisCommandKeys {
    /// Commands that name no key: any node answers them.
    static let keyless: Set<String> = [
        "PING", "ECHO", "INFO", "CONFIG", "CLIENT", "SCRIPT", "FUNCTION", "WAIT", "ACL", "AUTH", "HELLO", "SELECT",
        "CLUSTER", "DBSIZE", "FLUSHALL", "FLUSHDB", "TIME", "ROLE", "COMMAND", "MEMORY", "SLOWLOG", "LATENCY",
        "DEBUG", "SAVE", "BGSAVE", "BGREWRITEAOF", "LASTSAVE", "READONLY", "READWRITE", "ASKING", "MULTI", "EXEC",
        "DISCARD", "UNWATCH", "PUBLISH", "SUBSCRIBE", "SHUTDOWN", "SWAPDB", "MONITOR", "SENTINEL", "REPLICAOF", "SLAVEOF",
        "FAILOVER", "LOLWUT", "RANDOMKEY", "SCAN", "KEYS",
    ]

    /// The first key, or nil for a keyless command (or a script call without keys).
    public static func firstKey(of arguments: [RedisArgument]) -> RedisArgument? {
        guard let name = arguments.first.map({ String(decoding: $0.bytes, as: UTF8.self).uppercased() }) else { return nil }
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard arguments.count > 3, let count = Int(String(decoding: arguments[2].bytes, as: UTF8.self)), count > 0 else { return nil }
            return arguments[3]
        case "XREAD", "XREADGROUP":
            guard let streams = arguments.firstIndex(where: { String(decoding: $0.bytes, as: UTF8.self).uppercased() == "STREAMS" }),
                streams + 1 < arguments.count
            else { return nil }
            return arguments[streams + 1]
        case "BITOP":
            return arguments.count > 2 ? arguments[2] : nil
        default:
            if keyless.contains(name) { return nil }
            return arguments.count > 1 ? arguments[1] : nil
        }
    }
}
