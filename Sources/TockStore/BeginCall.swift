import TockCore
import TockRedis

/// `begin.lua`: takes one delivery lock per shard over the fired entries still queued at that time.
struct BeginCall: StoreScriptCall {
    struct Section: Sendable {
        var shard: Int
        var owner: ShardOwnership
        var lock: String
        var entries: [(id: String, fireMillis: Int64)]
    }

    let script: RedisScript
    let sections: [Section]
    let keys: [RedisArgument]
    let args: [RedisArgument]

    init(script: RedisScript, keys storeKeys: StoreKeys, dueBy: Int64, leaseUntil: Int64, sections: [Section]) {
        self.script = script
        self.sections = sections
        var keys: [RedisArgument] = []
        var args: [RedisArgument] = [RedisArgument(dueBy), RedisArgument(leaseUntil), RedisArgument(sections.count)]
        for section in sections {
            let shard = section.shard
            keys += [RedisArgument(storeKeys.owner(shard)), RedisArgument(storeKeys.queue(shard)), RedisArgument(storeKeys.messages(shard)),
                     RedisArgument(storeKeys.attempts(shard)), RedisArgument(storeKeys.locks(shard)), RedisArgument(storeKeys.leases(shard))]
            args += [RedisArgument(section.owner.worker), RedisArgument(section.owner.epoch), RedisArgument(section.lock),
                     RedisArgument(section.entries.count)]
            for entry in section.entries {
                args.append(RedisArgument(entry.id))
                args.append(RedisArgument(entry.fireMillis))
            }
        }
        self.keys = keys
        self.args = args
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [Int: Result<[LockedDelivery], StoreError>] {
        let replies = try SectionReplies.split(value, count: sections.count, script: "begin")
        var locked: [Int: Result<[LockedDelivery], StoreError>] = [:]
        for (section, items) in zip(sections, replies) {
            locked[section.shard] = Result { () throws(StoreError) in
                let items = try SectionReplies.fenced(items, shard: section.shard)
                guard items.count % 3 == 0 else { throw .corrupt("begin reply") }
                let fireTimes = Dictionary(section.entries.map { ($0.id, $0.fireMillis) }, uniquingKeysWith: { a, _ in a })
                var deliveries: [LockedDelivery] = []
                deliveries.reserveCapacity(items.count / 3)
                var index = items.startIndex
                while index < items.endIndex {
                    guard let id = items[index].string, case .integer(let attempt) = items[index + 1],
                          case .bulkString(let blob) = items[index + 2] else { throw .corrupt("begin entry") }
                    let message: ScheduledMessage
                    do { message = try MessageCodec.decode(blob, id: id) } catch { throw .corrupt("message \(id): \(error)") }
                    deliveries.append(LockedDelivery(shard: section.shard, lock: section.lock, fireMillis: fireTimes[id] ?? message.dueMillis,
                                                     attempt: Int(attempt), message: message))
                    index += 3
                }
                return deliveries
            }
        }
        return locked
    }
}
