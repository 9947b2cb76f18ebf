import TockCore
import TockRedis

/// `resetwm.lua`: starts a new incarnation of one input partition in one shard.
struct ResetWatermarksCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys, shard: Int, topicPartition: String, generation: Int) {
        redisCall = RedisScriptCall(
            script, keys: [RedisArgument(storeKeys.watermarks(shard))], args: [RedisArgument(topicPartition), RedisArgument(String(generation))])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> Int {
        guard case .integer(let count) = value else { throw .corrupt("resetwm reply \(value)") }
        return Int(count)
    }
}
