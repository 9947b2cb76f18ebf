import TockCore
import TockRedis

/// What the shards remember of the input partitions (SPEC guarantees 2 and 6; `store.lua`,
/// "Watermarks").
extension ScheduleStore {
    /// Every shard's mark of `topic/partition`, in shard order (offset -1 where a shard has none).
    public func partitionMarks(topic: String, partition: Int32) async throws(StoreError) -> [PartitionMark] {
        let field = "\(topic)/\(partition)"
        let commands = (0..<shardMap.shardCount).map {
            HMGET(RedisArgument(keys.watermarks($0)), fields: [RedisArgument(field), RedisArgument("\(field) id")]) as any RedisCommand
        }
        let results = try await read(commands)
        return try results.map { result throws(StoreError) in
            // A shard that could not be read (its cluster master is down) may hold the highest.
            let value: RedisValue
            switch result {
            case .success(let success): value = success
            case .failure(let error): throw .redis(error)
            }
            guard case .array(let items) = value, items.count == 2 else { throw .corrupt("HMGET \(field) answered \(value)") }
            return Self.mark(offset: items[0].string, id: items[1].string)
        }
    }

    /// A shard's mark from its two fields (`store.lua`, "Watermarks"). A watermark without an id
    /// field is an earlier release's: generation 0, no fingerprint. A fingerprint of another
    /// offset than the watermark's (an earlier release's worker moved the watermark since) is none.
    static func mark(offset: String?, id: String?) -> PartitionMark {
        var mark = PartitionMark(offset: offset.flatMap { Int64($0) } ?? -1)
        guard let parts = id?.split(separator: " ", omittingEmptySubsequences: false), parts.count == 4 else { return mark }
        mark.generation = Int(parts[0]) ?? 0
        mark.topicID = parts[1] == "-" ? nil : String(parts[1])
        if parts[2] != "-", Int64(parts[3]) == mark.offset { mark.fingerprint = String(parts[2]) }
        return mark
    }

    /// The highest offset of `topic/partition` stored in its current incarnation, or -1.
    public func highestStoredOffset(topic: String, partition: Int32) async throws(StoreError) -> Int64 {
        InputPartitionCheck(marks: try await partitionMarks(topic: topic, partition: partition)).watermark?.offset ?? -1
    }

    /// Makes every shard take `topic`'s partitions (or one of them) for new ones: the watermarks
    /// are forgotten and the next generation begins, so their next records are all stored, under
    /// default ids of their own. Workers do this themselves when they find a partition new
    /// (`InputPartitionCheck`); this is the operator's override. Returns each partition's new
    /// generation.
    public func restartPartitions(topic: String, partition: Int32? = nil) async throws(StoreError) -> [Int32: Int] {
        var partitions: Set<Int32> = partition.map { [$0] } ?? []
        if partition == nil {
            let commands = (0..<shardMap.shardCount).map { HKEYS(RedisArgument(keys.watermarks($0))) as any RedisCommand }
            let results = try await read(commands)
            for result in results {
                guard case .success(.array(let fields)) = result else {
                    if case .failure(let error) = result { throw .redis(error) }
                    continue
                }
                for field in fields.compactMap(\.string) {
                    // "<topic>/<partition>" or "<topic>/<partition> id"; a topic may contain neither "/" nor " ".
                    let name = field.split(separator: " ").first.map(String.init) ?? field
                    guard name.hasPrefix("\(topic)/"), let number = Int32(name.dropFirst(topic.count + 1)) else { continue }
                    partitions.insert(number)
                }
            }
        }
        var generations: [Int32: Int] = [:]
        let shards = Array(0..<shardMap.shardCount)
        for number in partitions.sorted() {
            let next = InputPartitionCheck(marks: try await partitionMarks(topic: topic, partition: number)).generation + 1
            let calls = shards.map {
                ResetWatermarksCall(script: scripts.resetWatermarks, keys: keys, shard: $0, topicPartition: "\(topic)/\(number)", generation: next)
            }
            _ = try await runEach(calls, shards: shards)
            generations[number] = next
        }
        return generations
    }
}
