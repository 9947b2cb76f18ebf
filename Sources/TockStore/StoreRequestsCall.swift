import TockCore
import TockRedis

/// `store.lua`: stores the requests of many shards, each shard's batch with its watermarks.
struct StoreRequestsCall: StoreScriptCall {
    struct Section: Sendable {
        var shard: Int
        /// The caller, when it owns the shard: what is due by the owner's claimed-up-to time goes
        /// straight into its wheel.
        var owner: ShardOwnership?
        var entries: [StoreEntry]
    }

    let script: RedisScript
    let sections: [Section]
    let keys: [RedisArgument]
    let args: [RedisArgument]

    init(script: RedisScript, keys storeKeys: StoreKeys, windows: TombstoneWindows, nowMillis: Int64, sections: [Section]) {
        self.script = script
        self.sections = sections
        let (previous, current) = windows.checked(atMillis: nowMillis)
        var keys: [RedisArgument] = []
        var args: [RedisArgument] = [RedisArgument(windows.expiry(of: current)), RedisArgument(sections.count)]
        for section in sections {
            let shard = section.shard
            keys += [RedisArgument(storeKeys.messages(shard)), RedisArgument(storeKeys.queue(shard)), RedisArgument(storeKeys.owner(shard)),
                     RedisArgument(storeKeys.attempts(shard)), RedisArgument(storeKeys.watermarks(shard)), RedisArgument(storeKeys.inbox(shard))]
            var highest: [String: Int64] = [:]
            for entry in section.entries { highest[entry.topicPartition] = max(highest[entry.topicPartition] ?? -1, entry.offset) }
            args += [RedisArgument(section.owner?.worker ?? ""), RedisArgument(section.owner?.epoch ?? 0),
                     RedisArgument(highest.count), RedisArgument(section.entries.count)]
            for (tp, offset) in highest {
                args.append(RedisArgument(tp))
                args.append(RedisArgument(offset))
            }
            for entry in section.entries {
                args += [RedisArgument(entry.operation.rawValue), RedisArgument(entry.topicPartition), RedisArgument(entry.offset),
                         RedisArgument(entry.id), RedisArgument(entry.tombstone.map { String($0.fingerprint) } ?? ""),
                         RedisArgument(entry.dueMillis), RedisArgument(entry.blob)]
                if let tombstone = entry.tombstone {
                    keys.append(RedisArgument(storeKeys.tombstones(shard, window: previous, bucket: tombstone.bucket)))
                    keys.append(RedisArgument(storeKeys.tombstones(shard, window: current, bucket: tombstone.bucket)))
                }
            }
        }
        self.keys = keys
        self.args = args
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [Int: [StoreOutcome]] {
        let replies = try SectionReplies.split(value, count: sections.count, script: "store")
        var outcomes: [Int: [StoreOutcome]] = [:]
        for (section, items) in zip(sections, replies) {
            guard items.count == section.entries.count else { throw .corrupt("store returned \(items.count) outcomes for \(section.entries.count)") }
            outcomes[section.shard] = try items.map { item throws(StoreError) in
                guard let text = item.string, let outcome = StoreOutcome(rawValue: text) else { throw .corrupt("store outcome \(item)") }
                return outcome
            }
        }
        return outcomes
    }
}
