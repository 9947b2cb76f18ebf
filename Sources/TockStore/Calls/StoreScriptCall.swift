import TockRedis

/// One call of a store script, valkey-swift's `ValkeyCommand` for Lua: it builds the keys the
/// script declares and its arguments, and decodes its reply. `ScheduleStore` only pipelines calls
/// and maps errors.
protocol StoreScriptCall: Sendable {
    associatedtype Reply: Sendable
    /// The script with the keys it declares and its arguments.
    var redisCall: RedisScriptCall { get }
    func decode(_ value: RedisValue) throws(StoreError) -> Reply
}

/// The reply of a call made of per-shard sections: one entry per section, in order.
enum SectionReplies {
    static func split(_ value: RedisValue, count: Int, script: String) throws(StoreError) -> [[RedisValue]] {
        guard case .array(let sections) = value, sections.count == count else {
            throw .corrupt("\(script) returned \(value) for \(count) sections")
        }
        return try sections.map { section throws(StoreError) in
            guard case .array(let items) = section else { throw .corrupt("\(script) section \(section)") }
            return items
        }
    }

    /// A section that answers {"ok", ...} or {"fenced", detail}.
    static func fenced(_ items: [RedisValue], shard: Int) throws(StoreError) -> ArraySlice<RedisValue> {
        guard let status = items.first?.string else { throw .corrupt("empty section reply") }
        if status == "fenced" { throw .fenced(shard: shard, detail: items.count > 1 ? items[1].string ?? "" : "") }
        guard status == "ok" else { throw .corrupt("section status \(status)") }
        return items.dropFirst()
    }

    static func pairs(_ items: ArraySlice<RedisValue>) throws(StoreError) -> [(id: String, dueMillis: Int64)] {
        guard items.count % 2 == 0 else { throw .corrupt("expected id/score pairs") }
        var result: [(id: String, dueMillis: Int64)] = []
        result.reserveCapacity(items.count / 2)
        var index = items.startIndex
        while index < items.endIndex {
            guard let id = items[index].string, let score = items[index + 1].string.flatMap({ Double($0) }) else {
                throw .corrupt("id/score pair")
            }
            result.append((id, Int64(score)))
            index += 2
        }
        return result
    }
}
