import TockCore
import TockRedis

/// `own.lua`: makes a worker the owner of one shard at a new epoch.
struct OwnCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys, shard: Int, worker: String) {
        redisCall = RedisScriptCall(
            script, keys: [RedisArgument(storeKeys.owner(shard)), RedisArgument(storeKeys.inbox(shard))], args: [RedisArgument(worker)])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> Int64 {
        guard case .integer(let epoch) = value else { throw .corrupt("own reply \(value)") }
        return epoch
    }
}
