import TockCore
import TockRedis

/// `meta.lua`: the dataset's shard count and store format, recorded on first start.
struct MetaCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys, shards: Int, format: Int) {
        redisCall = RedisScriptCall(script, keys: [RedisArgument(storeKeys.meta)], args: [RedisArgument(shards), RedisArgument(format)])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> (shards: Int?, format: String?) {
        guard case .array(let items) = value, items.count == 2 else { throw .corrupt("meta reply \(value)") }
        return (items[0].string.flatMap { Int($0) }, items[1].string)
    }
}
