import TockCore
import TockRedis

/// `status.lua`: what the store knows of one id.
struct StatusCall: StoreScriptCall {
    let redisCall: RedisScriptCall
    let id: String
    let shard: Int

    init(
        script: RedisScript, keys storeKeys: StoreKeys, windows: TombstoneWindows, hourSlotMillis: Int64, shard: Int, id: String, idWasGiven: Bool,
        nowMillis: Int64
    ) {
        self.id = id
        self.shard = shard
        let tombstone = Tombstone(id: id)
        let (previous, current) = windows.checked(atMillis: nowMillis)
        let keys: RESPArguments = [
            RedisArgument(storeKeys.owner(shard)), RedisArgument(storeKeys.queue(shard)), RedisArgument(storeKeys.messages(shard)),
            RedisArgument(storeKeys.attempts(shard)), RedisArgument(storeKeys.locks(shard)), RedisArgument(storeKeys.leases(shard)),
            RedisArgument(storeKeys.series(shard)), RedisArgument(storeKeys.tombstones(shard, window: previous, bucket: tombstone.bucket)),
            RedisArgument(storeKeys.tombstones(shard, window: current, bucket: tombstone.bucket)), RedisArgument(storeKeys.coldMeta(shard)),
            RedisArgument(storeKeys.pausedSeries(shard)),
        ]
        var args = RESPArguments()
        args.add(
            id, idWasGiven ? String(tombstone.fingerprint) : "", ColdIndexEntry.fingerprint(of: id), storeKeys.coldBucketPrefix(shard), hourSlotMillis
        )
        redisCall = RedisScriptCall(script, keys: keys, args: args)
    }

    func decode(_ value: RedisValue) throws(StoreError) -> MessageStatus {
        guard case .array(let items) = value, items.count == 5, let stateText = items[0].string,
            let state = MessageStatus.State(rawValue: stateText)
        else { throw .corrupt("status reply \(value)") }
        let score = items[1].string.flatMap { Double($0) }.map { Int64($0) }
        var attempts = 0
        if case .integer(let count) = items[2] { attempts = Int(count) }
        var message: ScheduledMessage?
        if case .bulkString(let blob) = items[3] { message = try? MessageCodec.decode(blob, id: id) }
        let series = items[4].string.flatMap { SeriesState(stored: $0) }
        return MessageStatus(id: id, shard: shard, state: state, scoreMillis: score, attempts: attempts, message: message, series: series)
    }
}
