import TockRedis

/// `workers.lua`: the heartbeats and the holding workers, with the reference clock's time.
struct WorkersCall: StoreScriptCall {
    let redisCall: RedisScriptCall

    init(script: RedisScript, keys storeKeys: StoreKeys) {
        redisCall = RedisScriptCall(script, keys: [RedisArgument(storeKeys.workers), RedisArgument(storeKeys.holdingWorkers)], args: [])
    }

    func decode(_ value: RedisValue) throws(StoreError) -> WorkerHeartbeats {
        guard case .array(let parts) = value, parts.count == 3, case .array(let scores) = parts[1], case .array(let holding) = parts[2] else {
            throw .corrupt("workers reply \(value)")
        }
        var heartbeats: [String: Int64] = [:]
        for index in stride(from: 0, to: scores.count - 1, by: 2) {
            if let worker = scores[index].string, let score = scores[index + 1].string.flatMap({ Double($0) }) { heartbeats[worker] = Int64(score) }
        }
        return WorkerHeartbeats(
            referenceMillis: try TimeCall.micros(parts[0]) / 1_000, heartbeats: heartbeats, holding: Set(holding.compactMap(\.string)))
    }
}
