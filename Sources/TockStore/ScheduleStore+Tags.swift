import TockRedis

extension ScheduleStore {
    /// One step through the ids of `shard` that carry `tag`: the next cursor ("0" when done) and
    /// up to about `count` ids (SSCAN: an id tagged throughout is returned at least once).
    public func taggedIDs(shard: Int, tag: String, cursor: String, count: Int) async throws(StoreError) -> (cursor: String, ids: [String]) {
        let reply = try unwrap(try await read([SSCAN(RedisArgument(keys.taggedIDs(shard, tag: tag)), cursor: cursor, count: count)])[0], shard: shard)
        guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].string, case .array(let members) = parts[1] else {
            throw .corrupt("SSCAN reply \(reply)")
        }
        return (next, members.compactMap(\.string))
    }

    /// How many ids of every shard carry `tag`.
    public func taggedCount(tag: String) async throws(StoreError) -> Int {
        let shards = Array(0..<shardMap.shardCount)
        let results = try await read(shards.map { SCARD(RedisArgument(keys.taggedIDs($0, tag: tag))) as any RedisCommand })
        var total = 0
        for (shard, result) in zip(shards, results) {
            guard case .integer(let count) = try unwrap(result, shard: shard) else { throw .corrupt("SCARD reply") }
            total += Int(count)
        }
        return total
    }

    /// A cancel-by-tag job's state (JSON), or nil.
    public func tagJob(_ id: String) async throws(StoreError) -> String? {
        try unwrap(try await read([HGET(RedisArgument(keys.tagJobs), field: RedisArgument(id))])[0], shard: -1).string
    }

    /// Every cancel-by-tag job, by id.
    public func tagJobs() async throws(StoreError) -> [String: String] {
        guard case .array(let items) = try unwrap(try await read([HGETALL(RedisArgument(keys.tagJobs))])[0], shard: -1) else {
            throw .corrupt("jobs")
        }
        var jobs: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let id = items[index].string, let state = items[index + 1].string { jobs[id] = state }
            index += 2
        }
        return jobs
    }

    /// Writes a job's state.
    public func saveTagJob(_ id: String, state: String) async throws(StoreError) {
        _ = try unwrap(try await read([HSET(RedisArgument(keys.tagJobs), field: RedisArgument(id), value: RedisArgument(state))])[0], shard: -1)
    }
}
