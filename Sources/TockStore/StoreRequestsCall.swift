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
    /// Tombstone sets this call asks to give their expiry, per section and entry: an entry's
    /// set gets it only if the entry wrote its tombstone (`expiring(_:)`).
    let expiryAsked: [(section: Int, entry: Int, key: String)]

    /// `expiresKnown` says whether this process already gave a tombstone set its expiry.
    init(script: RedisScript, keys storeKeys: StoreKeys, windows: TombstoneWindows, nowMillis: Int64, sections: [Section],
         expiresKnown: (String) -> Bool) {
        self.script = script
        self.sections = sections
        let (previous, current) = windows.checked(atMillis: nowMillis)
        let expireAt = RedisArgument(windows.expiry(of: current))
        var keys: [RedisArgument] = []
        var args: [RedisArgument] = [RedisArgument(sections.count)]
        var expiryAsked: [(section: Int, entry: Int, key: String)] = []
        for (sectionIndex, section) in sections.enumerated() {
            let shard = section.shard
            keys += [RedisArgument(storeKeys.messages(shard)), RedisArgument(storeKeys.queue(shard)), RedisArgument(storeKeys.owner(shard)),
                     RedisArgument(storeKeys.attempts(shard)), RedisArgument(storeKeys.watermarks(shard)), RedisArgument(storeKeys.inbox(shard))]
            var partitions: [String: Int] = [:]
            var highest: [(tp: String, offset: Int64)] = []
            for entry in section.entries {
                if let index = partitions[entry.topicPartition] {
                    highest[index].offset = max(highest[index].offset, entry.offset)
                } else {
                    partitions[entry.topicPartition] = highest.count
                    highest.append((entry.topicPartition, entry.offset))
                }
            }
            args += [RedisArgument(section.owner?.worker ?? ""), RedisArgument(section.owner?.epoch ?? 0),
                     RedisArgument(highest.count), RedisArgument(section.entries.count)]
            for (tp, offset) in highest {
                args.append(RedisArgument(tp))
                args.append(RedisArgument(offset))
            }
            for (entryIndex, entry) in section.entries.enumerated() {
                args += [RedisArgument(entry.operation.rawValue), RedisArgument(partitions[entry.topicPartition]! + 1), RedisArgument(entry.offset),
                         RedisArgument(entry.id)]
                if let tombstone = entry.tombstone {
                    let currentKey = storeKeys.tombstones(shard, window: current, bucket: tombstone.bucket)
                    let known = expiresKnown(currentKey)
                    if !known { expiryAsked.append((sectionIndex, entryIndex, currentKey)) }
                    args += [RedisArgument(String(tombstone.fingerprint)), known ? "" : expireAt]
                    keys.append(RedisArgument(storeKeys.tombstones(shard, window: previous, bucket: tombstone.bucket)))
                    keys.append(RedisArgument(currentKey))
                } else {
                    args += ["", ""]
                }
                args += [RedisArgument(entry.dueMillis), RedisArgument(entry.blob)]
            }
        }
        self.keys = keys
        self.args = args
        self.expiryAsked = expiryAsked
    }

    /// The tombstone sets that now have their expiry: those of entries that wrote a tombstone.
    func expiring(_ outcomes: [Int: [StoreOutcome]]) -> [String] {
        expiryAsked.compactMap { asked in
            let outcome = outcomes[sections[asked.section].shard]?[asked.entry]
            return outcome?.wroteTombstone == true ? asked.key : nil
        }
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
