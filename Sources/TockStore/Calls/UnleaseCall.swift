import TockRedis

/// `unlease.lua`: gives a named lease up if the caller holds it.
struct UnleaseCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, key: String, holder: String) {
        redisCall = RedisScriptCall(script, keys: [RedisArgument(key)], args: [RedisArgument(holder)])
    }

    func decode(_ value: RedisValue) throws(StoreError) {}
}
