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

    let redisCall: RedisScriptCall
    let sections: [Section]
    /// Tombstone sets this call asks to give their expiry, per section and entry: an entry's
    /// set gets it only if the entry wrote its tombstone (`expiring(_:)`).
    let expiryAsked: [(section: Int, entry: Int, set: TombstoneSet)]

    /// `expiresKnown` says whether this process already gave a tombstone set its expiry.
    init(
        script: RedisScript, keys storeKeys: StoreKeys, windows: TombstoneWindows, hourSlotMillis: Int64, nowMillis: Int64, sections: [Section],
        watermarks: [String: BatchWatermark] = [:], expiresKnown: (TombstoneSet) -> Bool
    ) {
        self.sections = sections
        let (previous, current) = windows.checked(atMillis: nowMillis)
        let expireAt = windows.expiry(of: current)
        var keys = RESPArguments()
        var args = RESPArguments()
        args.reserveCapacity(sections.reduce(0) { $0 + $1.entries.reduce(64) { $0 + 96 + $1.id.utf8.count + $1.blob.count } })
        args.add(sections.count)
        var expiryAsked: [(section: Int, entry: Int, set: TombstoneSet)] = []
        for (sectionIndex, section) in sections.enumerated() {
            let shard = section.shard
            keys.add(
                storeKeys.messages(shard), storeKeys.queue(shard), storeKeys.owner(shard), storeKeys.attempts(shard),
                storeKeys.watermarks(shard), storeKeys.inbox(shard), storeKeys.series(shard), storeKeys.retiredSeries(shard),
                storeKeys.coldMeta(shard), storeKeys.pausedSeries(shard), storeKeys.tagIndex(shard))
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
            args.add(section.owner?.worker ?? "", section.owner?.epoch ?? 0, storeKeys.coldBucketPrefix(shard), hourSlotMillis)
            args.add(highest.count, section.entries.count)
            for (tp, offset) in highest {
                // A partition the caller describes no further: the first incarnation, and no
                // fingerprint ("", so a later check cannot verify it: only tests and benchmarks).
                var mark = watermarks[tp] ?? BatchWatermark(generation: 0, topicID: nil, offset: offset, fingerprint: "")
                if mark.offset < offset { (mark.offset, mark.fingerprint) = (offset, "") }
                args.add(tp, mark.offset, mark.generation, mark.topicID ?? "", mark.fingerprint)
            }
            for (entryIndex, entry) in section.entries.enumerated() {
                args.add(entry.operation.rawValue, partitions[entry.topicPartition]! + 1, entry.offset, entry.id)
                if let tombstone = entry.tombstone {
                    let set = TombstoneSet(shard: shard, bucket: tombstone.bucket)
                    if expiresKnown(set) {
                        args.add(tombstone.fingerprint, "")
                    } else {
                        expiryAsked.append((sectionIndex, entryIndex, set))
                        args.add(tombstone.fingerprint, expireAt)
                    }
                    keys.add(
                        storeKeys.tombstones(shard, window: previous, bucket: tombstone.bucket),
                        storeKeys.tombstones(shard, window: current, bucket: tombstone.bucket))
                } else {
                    args.add("", "")
                }
                args.add(entry.dueMillis, entry.blob)
                // An id given, or a cold message: looked up in (or written to) the cold index.
                if let version = entry.coldVersion {
                    args.add(ColdIndexEntry.fingerprint(of: entry.id), ColdIndexEntry.value(dueMillis: entry.dueMillis, version: version))
                } else if entry.tombstone != nil {
                    args.add(ColdIndexEntry.fingerprint(of: entry.id), "")
                } else {
                    args.add("", "")
                }
                args.add(entry.tags)
            }
        }
        redisCall = RedisScriptCall(script, keys: keys, args: args)
        self.expiryAsked = expiryAsked
    }

    /// The tombstone sets that now have their expiry: those of entries that wrote a tombstone.
    func expiring(_ outcomes: [Int: [StoreOutcome]]) -> [TombstoneSet] {
        expiryAsked.compactMap { asked in
            let outcome = outcomes[sections[asked.section].shard]?[asked.entry]
            return outcome?.wroteTombstone == true ? asked.set : nil
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
