import TockCore
import TockRedis

/// `finish.lua`: records the outcome of delivery locks, many shards in one call.
struct FinishCall: StoreScriptCall {
    let script: RedisScript
    let locks: [LockOutcome]
    let keys: [RedisArgument]
    let args: [RedisArgument]
    /// Tombstone sets this call asks to give their expiry, per lock: they get it only if the
    /// lock was still held (`expiring(_:)`).
    let expiryAsked: [(lock: Int, key: String)]

    /// `expiresKnown` says whether this process already gave a tombstone set its expiry.
    init(script: RedisScript, keys storeKeys: StoreKeys, windows: TombstoneWindows, nowMillis: Int64,
         ownerships: [Int: ShardOwnership], locks: [LockOutcome], expiresKnown: (String) -> Bool) {
        self.script = script
        self.locks = locks
        let window = windows.window(atMillis: nowMillis)
        let expireAt = String(windows.expiry(of: window))
        var keys: [RedisArgument] = []
        var args: [RedisArgument] = [RedisArgument(locks.count)]
        var expiryAsked: [(lock: Int, key: String)] = []
        for (lockIndex, lock) in locks.enumerated() {
            let shard = lock.shard
            keys += [RedisArgument(storeKeys.owner(shard)), RedisArgument(storeKeys.queue(shard)), RedisArgument(storeKeys.messages(shard)),
                     RedisArgument(storeKeys.attempts(shard)), RedisArgument(storeKeys.locks(shard)), RedisArgument(storeKeys.leases(shard)),
                     RedisArgument(storeKeys.inbox(shard))]
            let owner = ownerships[shard]
            args += [RedisArgument(owner?.worker ?? ""), RedisArgument(owner?.epoch ?? -1), RedisArgument(lock.lock),
                     RedisArgument(lock.done.count), RedisArgument(lock.retries.count), RedisArgument(lock.kept.count)]
            for done in lock.done {
                args += [RedisArgument(done.id), RedisArgument(done.attempt)]
                // A tombstone written when the message was stored lasts long enough if it fired in
                // the same window.
                if let tombstone = done.tombstone, windows.window(atMillis: done.storedMillis) != window {
                    let key = storeKeys.tombstones(shard, window: window, bucket: tombstone.bucket)
                    let known = expiresKnown(key)
                    if !known { expiryAsked.append((lockIndex, key)) }
                    args += [RedisArgument(String(tombstone.fingerprint)), RedisArgument(known ? "" : expireAt)]
                    keys.append(RedisArgument(key))
                } else {
                    args += ["", ""]
                }
            }
            for retry in lock.retries { args += [RedisArgument(retry.id), RedisArgument(retry.nextMillis), RedisArgument(retry.attempt)] }
            for id in lock.kept { args.append(RedisArgument(id)) }
        }
        self.keys = keys
        self.args = args
        self.expiryAsked = expiryAsked
    }

    /// The tombstone sets that now have their expiry.
    func expiring(_ finished: [FinishedLock]) -> [String] {
        expiryAsked.compactMap { asked in finished[asked.lock].held ? asked.key : nil }
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [FinishedLock] {
        let replies = try SectionReplies.split(value, count: locks.count, script: "finish")
        return try zip(locks, replies).map { lock, items throws(StoreError) in
            guard let held = items.first, items.count == 1 + (held == .integer(1) ? lock.retries.count : 0) else {
                throw .corrupt("finish reply \(items)")
            }
            var claimed: [(id: String, nextMillis: Int64)] = []
            for (retry, status) in zip(lock.retries, items.dropFirst()) where status.string == "claimed" {
                claimed.append((retry.id, retry.nextMillis))
            }
            return FinishedLock(shard: lock.shard, lock: lock.lock, held: held == .integer(1), claimedRetries: claimed)
        }
    }
}
