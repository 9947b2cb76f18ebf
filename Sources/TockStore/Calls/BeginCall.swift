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

    let redisCall: RedisScriptCall
    let sections: [Section]

    init(script: RedisScript, keys storeKeys: StoreKeys, dueBy: Int64, leaseUntil: Int64, sections: [Section]) {
        self.sections = sections
        var keys = RESPArguments()
        var args = RESPArguments()
        args.add(dueBy, leaseUntil, sections.count)
        for section in sections {
            let shard = section.shard
            keys.add(
                storeKeys.owner(shard), storeKeys.queue(shard), storeKeys.messages(shard), storeKeys.attempts(shard),
                storeKeys.locks(shard), storeKeys.leases(shard), storeKeys.series(shard))
            args.add(section.owner.worker, section.owner.epoch, section.lock, section.entries.count)
            for entry in section.entries { args.add(entry.id, entry.fireMillis) }
        }
        redisCall = RedisScriptCall(script, keys: keys, args: args)
    }

    func decode(_ value: RedisValue) throws(StoreError) -> [Int: Result<[LockedDelivery], StoreError>] {
        let replies = try SectionReplies.split(value, count: sections.count, script: "begin")
        var locked: [Int: Result<[LockedDelivery], StoreError>] = [:]
        for (section, items) in zip(sections, replies) {
            locked[section.shard] = Result { () throws(StoreError) in
                let items = try SectionReplies.fenced(items, shard: section.shard)
                guard items.count % 4 == 0 else { throw .corrupt("begin reply") }
                let fireTimes = Dictionary(section.entries.map { ($0.id, $0.fireMillis) }, uniquingKeysWith: { a, _ in a })
                var deliveries: [LockedDelivery] = []
                deliveries.reserveCapacity(items.count / 4)
                var index = items.startIndex
                while index < items.endIndex {
                    guard let id = items[index].string, case .integer(let attempt) = items[index + 1],
                        case .bulkString(let blob) = items[index + 2], let stateText = items[index + 3].string
                    else { throw .corrupt("begin entry") }
                    var message: ScheduledMessage
                    var series: SeriesProgress?
                    if stateText.isEmpty {
                        do { message = try MessageCodec.decode(blob, id: id) } catch { throw .corrupt("message \(id): \(error)") }
                    } else {
                        guard let (seriesId, due) = OccurrenceKey.parse(id), let state = SeriesState(stored: stateText) else {
                            throw .corrupt("occurrence \(id) with state \(stateText)")
                        }
                        do { message = try MessageCodec.decode(blob, id: OccurrenceKey.publishedId(series: seriesId, dueMillis: due)) } catch {
                            throw .corrupt("series \(seriesId): \(error)")
                        }
                        guard let definition = message.series else { throw .corrupt("series \(seriesId) has no definition") }
                        message.dueMillis = due
                        series = SeriesProgress(id: seriesId, state: state, definition: definition)
                    }
                    deliveries.append(
                        LockedDelivery(
                            shard: section.shard, lock: section.lock, fireMillis: fireTimes[id] ?? message.dueMillis,
                            attempt: Int(attempt), message: message, entry: id, series: series))
                    index += 4
                }
                return deliveries
            }
        }
        return locked
    }
}
