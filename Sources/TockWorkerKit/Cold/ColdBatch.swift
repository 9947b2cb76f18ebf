import TockCore
import TockKafka
import TockStore

/// What one polled batch of cold records becomes, decided without Redis or Kafka: per shard, the
/// records to move (from hour partitions) or to copy (from day partitions) with the positions
/// to record once that is done, and the next offset of each partition read.
struct ColdBatch {
    struct Read: Sendable {
        var record: ColdRecord
        /// When this mover first read it: its entry may still be coming for a while after (the
        /// record is written first), and the retries count from here, not from the record's
        /// timestamp (another host's clock, and a write the broker was slow to acknowledge).
        var seenMillis: Int64
        /// Where it was read: its partition's position field and its offset.
        var field: String
        var offset: Int64
    }

    struct Work {
        var records: [Read] = []
        /// Cold "topic/partition" → the next offset to read, recorded with the work's call.
        var positions: [String: Int64] = [:]
    }

    private(set) var moves: [Int: Work] = [:]
    private(set) var copies: [Int: Work] = [:]
    private(set) var nextOffsets: [ColdRead: Int64] = [:]
    /// Records that are not cold records (no id, no `tock-cold` header): skipped, and counted.
    private(set) var unreadable = 0

    /// - Parameter assigned: the partitions read, with the offset each was read from; a record
    ///   of another partition, or before that offset (fetched before a reassignment), is left out.
    init(_ messages: [KafkaConsumerMessage], assigned: [ColdRead: Int64], shardMap: ShardMap, nowMillis: Int64) {
        var reads: [KafkaTopicPartition: ColdRead] = [:]
        for read in assigned.keys { reads[KafkaTopicPartition(topic: read.topic, partition: read.partition)] = read }
        for message in messages {
            guard let read = reads[message.topicPartition], let from = assigned[read], message.offset >= from else { continue }
            let next = message.offset + 1
            nextOffsets[read] = max(nextOffsets[read] ?? next, next)
            var work = (read.kind == .move ? moves[read.shard] : copies[read.shard]) ?? Work()
            work.positions[read.field] = nextOffsets[read]
            if let record = ColdTopics.coldRecord(message) {
                work.records.append(
                    Read(record: record, seenMillis: nowMillis, field: read.field, offset: message.offset))
            } else {
                unreadable += 1
            }
            if read.kind == .move { moves[read.shard] = work } else { copies[read.shard] = work }
        }
    }
}

/// Paces moves to `store.coldMoveRate` a second, so that a big hour spreads over its lead time
/// instead of starving the fire path of Redis.
struct MovePacer {
    let perSecond: Int
    private var windowStart: Int64 = 0
    private var count = 0

    init(perSecond: Int) { self.perSecond = max(1, perSecond) }

    /// Notes `handled` records at `nowMillis`; returns how long to wait before the next, if at all.
    mutating func note(_ handled: Int, nowMillis: Int64) -> Int64? {
        if nowMillis - windowStart >= 1_000 { (windowStart, count) = (nowMillis, 0) }
        count += handled
        guard count >= perSecond else { return nil }
        let wait = windowStart + 1_000 - nowMillis
        (windowStart, count) = (windowStart + 1_000, count - perSecond)
        return wait > 0 ? wait : nil
    }
}
