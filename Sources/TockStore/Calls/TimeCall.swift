import TockRedis

/// `time.lua`: the reference clock, Redis `TIME` of the server holding the cluster's keys.
struct TimeCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys) {
        redisCall = RedisScriptCall(script, keys: [RedisArgument(storeKeys.workers)], args: [])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> Int64 { try Self.micros(value) }

    /// Epoch microseconds from a `TIME` reply.
    static func micros(_ value: RedisValue) throws(StoreError) -> Int64 {
        guard case .array(let parts) = value, parts.count == 2, let seconds = parts[0].string.flatMap({ Int64($0) }),
            let micros = parts[1].string.flatMap({ Int64($0) })
        else { throw .corrupt("TIME reply \(value)") }
        return seconds * 1_000_000 + micros
    }
}
