import TockRedis

/// `claim.lua`: what each owned shard has due by the horizon that its owner's wheel lacks.
struct ClaimCall: StoreScriptCall {
    let redisCall: RedisScriptCall
    let shards: [Int]

    init(
        script: RedisScript, keys storeKeys: StoreKeys, ownerships: [Int: ShardOwnership], nowMillis: Int64, horizon: Int64,
        limit: Int, token: String, ownGraceMillis: Int64
    ) {
        shards = ownerships.keys.sorted()
        var keys = RESPArguments()
        var args: RESPArguments = [
            RedisArgument(nowMillis), RedisArgument(horizon), RedisArgument(limit), RedisArgument(token),
            RedisArgument(ownGraceMillis), RedisArgument(shards.count),
        ]
        for shard in shards {
            keys += [
                RedisArgument(storeKeys.owner(shard)), RedisArgument(storeKeys.queue(shard)), RedisArgument(storeKeys.messages(shard)),
                RedisArgument(storeKeys.attempts(shard)), RedisArgument(storeKeys.locks(shard)), RedisArgument(storeKeys.leases(shard)),
                RedisArgument(storeKeys.inbox(shard)), RedisArgument(storeKeys.series(shard)),
            ]
            args += [RedisArgument(ownerships[shard]!.worker), RedisArgument(ownerships[shard]!.epoch)]
        }
        redisCall = RedisScriptCall(script, keys: keys, args: args)
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [Int: Result<[(id: String, dueMillis: Int64)], StoreError>] {
        let replies = try SectionReplies.split(value, count: shards.count, script: "claim")
        var claimed: [Int: Result<[(id: String, dueMillis: Int64)], StoreError>] = [:]
        for (shard, items) in zip(shards, replies) {
            claimed[shard] = Result { () throws(StoreError) in try SectionReplies.pairs(try SectionReplies.fenced(items, shard: shard)) }
        }
        return claimed
    }
}
