import TockRedis

/// `heartbeat.lua`: records a worker's heartbeat (or its leaving) and returns its assignment.
struct HeartbeatCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys, worker: String, leaving: Bool, summary: String, holding: Bool) {
        let keys: RESPArguments = [
            RedisArgument(storeKeys.workers), RedisArgument(storeKeys.assigned(worker)), RedisArgument(storeKeys.workerSummaries),
            RedisArgument(storeKeys.holdingWorkers),
        ]
        redisCall = RedisScriptCall(
            script, keys: keys,
            args: [RedisArgument(worker), RedisArgument(leaving ? "1" : "0"), RedisArgument(summary), RedisArgument(holding ? "1" : "0")])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [Int: Int64] {
        guard case .array(let items) = value, items.count % 2 == 0 else { throw .corrupt("heartbeat reply \(value)") }
        var assignment: [Int: Int64] = [:]
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let shard = items[index].string.flatMap({ Int($0) }), let epoch = items[index + 1].string.flatMap({ Int64($0) }) else {
                throw .corrupt("heartbeat entry")
            }
            assignment[shard] = epoch
        }
        return assignment
    }
}
