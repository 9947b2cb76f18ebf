import TockCore
import TockRedis

/// `release.lua`: hands a shard's claims back (its next claim starts from the beginning).
struct ReleaseCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys, shard: Int, owner: ShardOwnership) {
        redisCall = RedisScriptCall(
            script, keys: [RedisArgument(storeKeys.owner(shard)), RedisArgument(storeKeys.queue(shard)), RedisArgument(storeKeys.inbox(shard))],
            args: [RedisArgument(owner.worker), RedisArgument(owner.epoch)])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> Int {
        guard case .integer(let count) = value else { throw .corrupt("release reply \(value)") }
        return Int(count)
    }
}
