import TockCore
import TockRedis

/// `finish.lua`: records the outcome of delivery locks, many shards in one call.
struct FinishCall: StoreScriptCall {
    let redisCall: RedisScriptCall
    let locks: [LockOutcome]
    /// Tombstone sets this call asks to give their expiry, per lock: they get it only if the
    /// lock was still held (`expiring(_:)`).
    let expiryAsked: [(lock: Int, set: TombstoneSet)]

    /// `expiresKnown` says whether this process already gave a tombstone set its expiry.
    init(
        script: RedisScript, keys storeKeys: StoreKeys, windows: TombstoneWindows, nowMillis: Int64,
        ownerships: [Int: ShardOwnership], locks: [LockOutcome], expiresKnown: (TombstoneSet) -> Bool
    ) {
        self.locks = locks
        let window = windows.window(atMillis: nowMillis)
        let expireAt = windows.expiry(of: window)
        var keys = RESPArguments()
        var args = RESPArguments()
        args.add(locks.count)
        var expiryAsked: [(lock: Int, set: TombstoneSet)] = []
        for (lockIndex, lock) in locks.enumerated() {
            let shard = lock.shard
            keys.add(
                storeKeys.owner(shard), storeKeys.queue(shard), storeKeys.messages(shard), storeKeys.attempts(shard),
                storeKeys.locks(shard), storeKeys.leases(shard), storeKeys.inbox(shard), storeKeys.series(shard),
                storeKeys.retiredSeries(shard), storeKeys.pausedSeries(shard), storeKeys.tagIndex(shard))
            let owner = ownerships[shard]
            args.add(owner?.worker ?? "", owner?.epoch ?? -1, lock.lock, lock.done.count, lock.retries.count, lock.steps.count)
            // A tombstone written when the message was stored lasts long enough if it fired in
            // the same window.
            func addTombstone(_ tombstone: Tombstone?, storedMillis: Int64) {
                if let tombstone, windows.window(atMillis: storedMillis) != window {
                    let set = TombstoneSet(shard: shard, bucket: tombstone.bucket)
                    if expiresKnown(set) {
                        args.add(tombstone.fingerprint, "")
                    } else {
                        expiryAsked.append((lockIndex, set))
                        args.add(tombstone.fingerprint, expireAt)
                    }
                    keys.add(storeKeys.tombstones(shard, window: window, bucket: tombstone.bucket))
                } else {
                    args.add("", "")
                }
            }
            for done in lock.done {
                args.add(done.id, done.attempt)
                addTombstone(done.tombstone, storedMillis: done.storedMillis)
            }
            for retry in lock.retries { args.add(retry.id, retry.nextMillis, retry.attempt) }
            for step in lock.steps {
                args.add(step.entry, step.attempt)
                // Only a series that ends needs its tombstone.
                addTombstone(step.nextMillis == nil ? step.tombstone : nil, storedMillis: step.storedMillis)
                args.add(step.expected, step.nextMillis.map { String($0) } ?? "", step.published ? 1 : 0)
            }
        }
        redisCall = RedisScriptCall(script, keys: keys, args: args)
        self.expiryAsked = expiryAsked
    }

    /// The tombstone sets that now have their expiry.
    func expiring(_ finished: [FinishedLock]) -> [TombstoneSet] {
        expiryAsked.compactMap { asked in finished[asked.lock].held ? asked.set : nil }
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [FinishedLock] {
        let replies = try SectionReplies.split(value, count: locks.count, script: "finish")
        return try zip(locks, replies).map { lock, items throws(StoreError) in
            guard let held = items.first, items.count == 1 + (held == .integer(1) ? lock.retries.count + lock.steps.count : 0) else {
                throw .corrupt("finish reply \(items)")
            }
            var claimed: [(id: String, nextMillis: Int64)] = []
            for (retry, status) in zip(lock.retries, items.dropFirst()) where status.string == "claimed" {
                claimed.append((retry.id, retry.nextMillis))
            }
            var ended = 0
            for (step, status) in zip(lock.steps, items.dropFirst(1 + lock.retries.count)) {
                if status.string == "ended" { ended += 1 }
                guard let (series, due) = OccurrenceKey.parse(step.entry) else { continue }
                if status.string == "claimed", let next = step.nextMillis {
                    claimed.append((OccurrenceKey.key(series: series, dueMillis: next), next))
                } else if status.string == "claimed-again" {
                    claimed.append((step.entry, due))
                }
            }
            var finished = FinishedLock(shard: lock.shard, lock: lock.lock, held: held == .integer(1), claimed: claimed)
            finished.seriesEnded = ended
            return finished
        }
    }
}
