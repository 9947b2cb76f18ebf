import TockRedis

/// `heartbeat.lua`: records a worker's heartbeat (or its leaving) and returns its assignment.
struct HeartbeatCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments

    init(script: RedisScript, keys storeKeys: StoreKeys, worker: String, leaving: Bool, summary: String, holding: Bool) {
        self.script = script
        keys = [
            RedisArgument(storeKeys.workers), RedisArgument(storeKeys.assigned(worker)), RedisArgument(storeKeys.workerSummaries),
            RedisArgument(storeKeys.holdingWorkers),
        ]
        args = [RedisArgument(worker), RedisArgument(leaving ? "1" : "0"), RedisArgument(summary), RedisArgument(holding ? "1" : "0")]
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

/// `lead.lua`: takes or renews monitor leadership.
struct LeadCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments

    init(script: RedisScript, keys storeKeys: StoreKeys, monitor: String, ttlMillis: Int64) {
        self.script = script
        keys = [RedisArgument(storeKeys.monitorLeader), RedisArgument(storeKeys.monitorToken)]
        args = [RedisArgument(monitor), RedisArgument(ttlMillis)]
    }

    func decode(_ value: RedisValue) throws(StoreError) -> ScheduleStore.Leadership {
        guard case .array(let items) = value, items.count == 2, let other = items[1].string else { throw .corrupt("lead reply \(value)") }
        return items[0] == .integer(1) ? .leading(token: other) : .following(leader: other)
    }
}

/// `publish.lua`: the leading monitor's view of the assignment, fenced by its token.
struct PublishCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments

    init(script: RedisScript, keys storeKeys: StoreKeys, token: String, assignment: [(worker: String, shards: [(Int, Int64)])], forget dead: [String])
    {
        self.script = script
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
        self.keys = keys
        self.args = args
    }

    func decode(_ value: RedisValue) throws(StoreError) {}
}

/// `lease.lua`: takes or renews a named lease.
struct LeaseCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments

    init(script: RedisScript, key: String, holder: String, ttlMillis: Int64) {
        self.script = script
        keys = [RedisArgument(key)]
        args = [RedisArgument(holder), RedisArgument(ttlMillis)]
    }

    func decode(_ value: RedisValue) throws(StoreError) -> LeaseHolder? {
        switch value {
        case .array(let items) where items.count == 2:
            guard let current = items[0].string, case .integer(let remaining) = items[1] else { throw .corrupt("lease reply \(value)") }
            return LeaseHolder(holder: current, remainingMillis: remaining)
        default:
            guard value.string == "" else { throw .corrupt("lease reply \(value)") }
            return nil
        }
    }
}

/// `unlease.lua`: gives a named lease up if the caller holds it.
struct UnleaseCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments

    init(script: RedisScript, key: String, holder: String) {
        self.script = script
        keys = [RedisArgument(key)]
        args = [RedisArgument(holder)]
    }

    func decode(_ value: RedisValue) throws(StoreError) {}
}

/// `time.lua`: the reference clock, Redis `TIME` of the server holding the cluster's keys.
struct TimeCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments = []

    init(script: RedisScript, keys storeKeys: StoreKeys) {
        self.script = script
        keys = [RedisArgument(storeKeys.workers)]
    }

    func decode(_ value: RedisValue) throws(StoreError) -> Int64 { try Self.micros(value) }

    /// Epoch microseconds from a `TIME` reply.
    static func micros(_ value: RedisValue) throws(StoreError) -> Int64 {
        guard case .array(let parts) = value, parts.count == 2, let seconds = parts[0].string.flatMap({ Int64($0) }),
            let micros = parts[1].string.flatMap({ Int64($0) })
        else { throw .corrupt("TIME reply \(value)") }
        return seconds * 1_000_000 + micros
    }
}

/// `workers.lua`: the heartbeats and the holding workers, with the reference clock's time.
struct WorkersCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments = []

    init(script: RedisScript, keys storeKeys: StoreKeys) {
        self.script = script
        keys = [RedisArgument(storeKeys.workers), RedisArgument(storeKeys.holdingWorkers)]
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
