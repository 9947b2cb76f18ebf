import Testing
import TockCore
import TockStore

@testable import TockKafka
@testable import TockWorkerKit

@Suite("Read-back: which deliveries are looked for in Kafka before they are published again")
struct ReadBackTests {
    let now: Int64 = 1_700_000_000_000

    func delivery(_ id: String, attempt: Int, topic: String = "orders", due: Int64? = nil, stored: Int64? = nil) -> LockedDelivery {
        var message = ScheduledMessage(id: id, idWasGiven: true, dueMillis: due ?? now, topic: topic, key: nil, value: [1], headers: [])
        message.storedMillis = stored ?? now - 60_000
        return LockedDelivery(shard: 0, lock: "t:1", fireMillis: now, attempt: attempt, message: message)
    }

    @Test("a first attempt is never looked for; a later one is, in its partition, from its due time less the clock skew")
    func onlyLaterAttempts() {
        let readBack = ReadBack(
            [delivery("a", attempt: 1), delivery("b", attempt: 2), delivery("c", attempt: 3, due: now - 5_000)],
            partitions: ["a": 0, "b": 1, "c": 1], skewMillis: 2_000)
        #expect(readBack.ids == ["b", "c"])
        #expect(readBack.from == [KafkaTopicPartition(topic: "orders", partition: 1): now - 7_000])
    }

    @Test("a message due before it was stored (a past due time fires at once) is looked for from when it was stored")
    func pastDueFromStoreTime() {
        let readBack = ReadBack(
            [delivery("late", attempt: 2, due: now - 86_400_000, stored: now - 10_000)], partitions: ["late": 3], skewMillis: 2_000)
        #expect(readBack.from == [KafkaTopicPartition(topic: "orders", partition: 3): now - 12_000])
    }

    @Test("one search per partition, across topics; a delivery whose partition is not known is not looked for")
    func groupedPerPartition() {
        let readBack = ReadBack(
            [
                delivery("a", attempt: 2), delivery("b", attempt: 2, topic: "billing"), delivery("c", attempt: 2, due: now + 1_000),
                delivery("unknown", attempt: 2),
            ],
            partitions: ["a": 0, "b": 0, "c": 0], skewMillis: 0)
        #expect(readBack.ids == ["a", "b", "c"])
        #expect(readBack.from == [KafkaTopicPartition(topic: "orders", partition: 0): now, KafkaTopicPartition(topic: "billing", partition: 0): now])
    }

    @Test("an output record's partition: the key's under the configured partitioner, else librdkafka's consistent hash of the tock-id")
    func outputPartition() {
        let partitioner = KafkaKeyPartitioner(partitioner: nil)
        let key = Array("customer-7".utf8)
        #expect(partitioner.partition(key: key, id: "x", count: 24) == partitioner.partition(key: key, count: 24))
        #expect(partitioner.partition(key: key, id: "x", count: 24) == partitioner.partition(key: key, id: "y", count: 24))
        // Keyless: fixed by the id, the same in every process, and spread over the partitions.
        let spread = Set((0..<200).compactMap { partitioner.partition(key: nil, id: "id-\($0)", count: 24) })
        #expect(spread.count > 20)
        #expect(
            partitioner.partition(key: nil, id: "id-1", count: 24)
                == KafkaKeyPartitioner(partitioner: "murmur2_random").partition(key: nil, id: "id-1", count: 24))
        #expect(partitioner.partition(key: [], id: "id-1", count: 24) == partitioner.partition(key: nil, id: "id-1", count: 24))
        #expect(
            KafkaKeyPartitioner(partitioner: "random").partition(key: key, id: "id-1", count: 24)
                == partitioner.partition(key: nil, id: "id-1", count: 24))
        #expect(partitioner.partition(key: nil, id: "id-1", count: 0) == nil)
    }
}

@Suite("Read-backs merged into one pass")
struct RecordSearchMergeTests {
    @Test("one pass looks for every value any waiting call wants, each partition from the earliest start")
    func merged() {
        let p0 = KafkaTopicPartition(topic: "out", partition: 0)
        let p1 = KafkaTopicPartition(topic: "out", partition: 1)
        let merged = KafkaRecordFinder.Search.merged([
            .init(header: "tock-id", wanted: ["a", "b"], starts: [p0: 500, p1: 900]),
            .init(header: "tock-id", wanted: ["c"], starts: [p0: 200]),
        ])
        #expect(merged.header == "tock-id")
        #expect(merged.wanted == ["a", "b", "c"])
        #expect(merged.starts == [p0: 200, p1: 900])
    }
}
