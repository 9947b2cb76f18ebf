import TockRedis

/// `lease.lua`: takes or renews a named lease.
struct LeaseCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, key: String, holder: String, ttlMillis: Int64) {
        redisCall = RedisScriptCall(script, keys: [RedisArgument(key)], args: [RedisArgument(holder), RedisArgument(ttlMillis)])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> LeaseHolder? {
        switch value {
        case .array(let items) where items.count == 2:
            guard let current = items[0].string, case .integer(let remaining) = items[1] else { throw .corrupt("lease reply \(value)") }
            return LeaseHolder(holder: current, remainingMillis: remaining)
        default:
            guard value.string == "" else { throw .corrupt("lease reply \(value)") }
            return nil
        }
    }
}
