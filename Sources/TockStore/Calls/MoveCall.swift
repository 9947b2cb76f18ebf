import TockCore
import TockRedis

/// What became of one cold record a move call was given.
public enum MoveOutcome: String, Sendable, CaseIterable {
    case moved
    /// Moved, and due by the caller's claimed-up-to time: it goes into the caller's wheel.
    case movedClaimed = "moved-claimed"
    /// The index holds no entry of this version: cancelled, rescheduled, moved already, or its
    /// entry not written yet.
    case absent
    /// The id is hot already; its entry was dropped.
    case duplicate
}

/// A cold record to move, with where it was read.
public struct ColdMove: Sendable {
    public var record: ColdRecord
    /// Its partition's position field ("topic/partition"), when the call records that position:
    /// the position is then written no further than `offset` if the record's entry is absent.
    public var field: String?
    public var offset: Int64

    public init(_ record: ColdRecord, field: String? = nil, offset: Int64 = 0) {
        self.record = record
        self.field = field
        self.offset = offset
    }
}

/// `move.lua`: moves one shard's cold records into the hot store, fenced by its owner epoch, and
/// records its read positions in the same call.
struct MoveCall: StoreScriptCall {
    let redisCall: RedisScriptCall
    let count: Int
    let shard: Int

    init(
        script: RedisScript, keys storeKeys: StoreKeys, windows: TombstoneWindows, hourSlotMillis: Int64, nowMillis: Int64, shard: Int,
        owner: ShardOwnership, records: [ColdMove], positions: [String: Int64]
    ) {
        self.count = records.count
        self.shard = shard
        let current = windows.window(atMillis: nowMillis)
        var keys = RESPArguments()
        var args = RESPArguments()
        keys.add(storeKeys.owner(shard), storeKeys.messages(shard), storeKeys.queue(shard), storeKeys.coldMeta(shard), storeKeys.coldPositions(shard))
        args.add(owner.worker, owner.epoch, storeKeys.coldBucketPrefix(shard), hourSlotMillis, windows.expiry(of: current))
        args.add(positions.count, records.count)
        let fields = positions.keys.sorted()
        let indexOf = Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1, $0 + 1) })
        for field in fields { args.add(field, positions[field]!) }
        for move in records {
            let record = move.record
            args.add(
                ColdIndexEntry.fingerprint(of: record.id), ColdIndexEntry.value(dueMillis: record.dueMillis, version: record.version), record.id,
                record.dueMillis, record.blob)
            if (try? MessageCodec.idWasGiven(in: record.blob)) == true {
                let tombstone = Tombstone(id: record.id)
                args.add(String(tombstone.fingerprint))
                keys.add(storeKeys.tombstones(shard, window: current, bucket: tombstone.bucket))
            } else {
                args.add("")
            }
            args.add(move.field.flatMap { indexOf[$0] } ?? 0, move.offset)
        }
        redisCall = RedisScriptCall(script, keys: keys, args: args)
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [MoveOutcome] {
        guard case .array(let items) = value else { throw .corrupt("move reply \(value)") }
        let statuses = try SectionReplies.fenced(items[...].map { $0 }, shard: shard)
        guard statuses.count == count else { throw .corrupt("move returned \(statuses.count) outcomes for \(count)") }
        return try statuses.map { item throws(StoreError) in
            guard let text = item.string, let outcome = MoveOutcome(rawValue: text) else { throw .corrupt("move outcome \(item)") }
            return outcome
        }
    }
}
