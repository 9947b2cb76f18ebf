import TockRedis

/// `lead.lua`: takes or renews monitor leadership.
struct LeadCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys, monitor: String, ttlMillis: Int64) {
        redisCall = RedisScriptCall(
            script, keys: [RedisArgument(storeKeys.monitorLeader), RedisArgument(storeKeys.monitorToken)],
            args: [RedisArgument(monitor), RedisArgument(ttlMillis)])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> ClusterStore.Leadership {
        guard case .array(let items) = value, items.count == 2, let other = items[1].string else { throw .corrupt("lead reply \(value)") }
        return items[0] == .integer(1) ? .leading(token: other) : .following(leader: other)
    }
}
