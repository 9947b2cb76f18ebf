import TockRedis

/// `assign.lua`: the leading monitor's view of the assignment, fenced by its token.
struct AssignCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys, token: String, assignment: [(worker: String, shards: [(Int, Int64)])], forget dead: [String])
    {
        var keys: RESPArguments = [
            RedisArgument(storeKeys.monitorToken), RedisArgument(storeKeys.workers), RedisArgument(storeKeys.workerSummaries),
            RedisArgument(storeKeys.holdingWorkers),
        ]
        var args: RESPArguments = [RedisArgument(token), RedisArgument(assignment.count)]
        for (worker, shards) in assignment {
            keys.append(RedisArgument(storeKeys.assigned(worker)))
            args += [RedisArgument(worker), RedisArgument(shards.count)]
            for (shard, epoch) in shards { args += [RedisArgument(shard), RedisArgument(epoch)] }
        }
        for worker in dead {
            keys.append(RedisArgument(storeKeys.assigned(worker)))
            args.append(RedisArgument(worker))
        }
        redisCall = RedisScriptCall(script, keys: keys, args: args)
    }

    func decode(_ value: RedisValue) throws(StoreError) {}
}
