import Foundation
import Testing
import TockKafka

/// The read-back's search (`KafkaRecordFinder.find`, SPEC guarantee 3) against the real broker.
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
}
