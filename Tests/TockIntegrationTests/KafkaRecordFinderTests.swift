import Foundation
import Testing
import TockKafka

/// The record finder against the real broker: the read-back's search (`find`, SPEC guarantee 3) and records by offset.
@Suite struct KafkaRecordFinderTests {
    @Test(
        "a read-back finds every record of a partition's newest batch, though the broker's answer for its end stops one record into that batch"
    )
    func findsTheWholeNewestBatch() async throws {
        let topic = TestStack.unique("kafka-find-batch")
        try await KafkaTestSupport.createTopic(topic, partitions: 2)
        // One produce request per partition: each partition's 100 records are one batch.
        let producer = try KafkaTestSupport.producer("find-batch-producer", properties: ["linger.ms": "200", "batch.num.messages": "1000"])
        let since = Int64(Date().timeIntervalSince1970 * 1_000) - 2_000
        let ids = (0..<200).map { "f-\($0)" }
        let records = ids.indices.map {
            KafkaProducerRecord(
                topic: topic, partition: Int32($0 % 2), value: KafkaTestSupport.bytes(ids[$0]),
                headers: [KafkaHeader(key: "tock-id", string: ids[$0])])
        }
        for result in await producer.send(records) { _ = try result.get() }
        await producer.shutdown(timeout: .seconds(2))
        // The stall of a worker whose lease ran out: nothing is written to the partition meanwhile.
        try await Task.sleep(for: .seconds(1))

        let finder = try KafkaRecordFinder(brokers: KafkaTestSupport.brokers, logger: KafkaTestSupport.logger("find-batch"))
        let partitions = (0..<2).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        let starts = Dictionary(uniqueKeysWithValues: partitions.map { ($0, since) })
        let wanted = Set(ids).union(["f-absent"])
        let found = try await finder.find(header: "tock-id", values: wanted, from: starts, timeout: .seconds(10))
        #expect(found == Set(ids), "missing: \(Set(ids).subtracting(found).sorted().prefix(10))")
    }

    @Test("the record finder returns the first record at or after an offset, and nil below a partition's end")
    func recordsAtOffsets() async throws {
        let brokers = KafkaTestSupport.brokers
        let topic = TestStack.unique("kafka-record-at")
        try await KafkaTestSupport.createTopic(topic, partitions: 2)
        let producer = try KafkaTestSupport.producer("record-at-producer")
        for i in 0..<5 {
            _ = try await producer.send(KafkaProducerRecord(topic: topic, partition: 0, key: nil, value: KafkaTestSupport.bytes("r\(i)")))
        }
        await producer.shutdown(timeout: .seconds(2))
        let finder = try KafkaRecordFinder(brokers: brokers, logger: KafkaTestSupport.logger("finder"))
        let p0 = KafkaTopicPartition(topic: topic, partition: 0)
        let p1 = KafkaTopicPartition(topic: topic, partition: 1)
        let found = try await finder.records(at: [p0: 3, p1: 0], timeout: .seconds(10))
        #expect(found[p0]??.offset == 3 && found[p0]??.value == KafkaTestSupport.bytes("r3"))
        // An empty partition read at its end: nothing there.
        #expect(found[p1] != nil && found[p1]! == nil)
        await #expect(throws: KafkaError.self) { _ = try await finder.records(at: [p0: 9], timeout: .seconds(2)) }
    }
}
