import Foundation
import Testing
import TockKafka

@Suite struct KafkaProducerPoolTests {
    @Test("the key partitioner picks the partition librdkafka picks, for each hash it knows")
    func keyPartitionerMatchesLibrdkafka() async throws {
        for partitioner in ["consistent_random", "murmur2_random", "fnv1a_random"] {
            let producer = try KafkaProducer(
                brokers: KafkaTestSupport.brokers, properties: ["partitioner": partitioner],
                logger: KafkaTestSupport.logger("partitioner-\(partitioner)"))
            let topic = TestStack.unique("pool-partitioner")
            let admin = try KafkaAdmin(brokers: KafkaTestSupport.brokers)
            try await admin.createTopic(topic, partitions: 7)
            await admin.close()
            let keys = (0..<200).map { KafkaTestSupport.bytes("key-\($0)") }
            let results = await producer.send(keys.map { KafkaProducerRecord(topic: topic, key: $0, value: [1]) })
            let computed = KafkaKeyPartitioner(partitioner: partitioner)
            for (key, result) in zip(keys, results) {
                let report = try result.get()
                #expect(computed.partition(key: key, count: 7) == report.partition, "\(partitioner), key \(String(decoding: key, as: UTF8.self))")
            }
            await producer.shutdown()
        }
        #expect(KafkaKeyPartitioner(partitioner: nil).partition(key: nil, count: 7) == nil)
        #expect(KafkaKeyPartitioner(partitioner: "random").partition(key: [1], count: 7) == nil)
    }

    @Test("a pool delivers every record, reports in the given order, keys on the partitions one producer would use")
    func poolKeepsOrderAndPartitions() async throws {
        let pool = try KafkaProducerPool(count: 3, brokers: KafkaTestSupport.brokers, logger: KafkaTestSupport.logger("pool"))
        let topic = TestStack.unique("pool-order")
        let admin = try KafkaAdmin(brokers: KafkaTestSupport.brokers)
        try await admin.createTopic(topic, partitions: 12)
        await admin.close()
        let partitioner = KafkaKeyPartitioner(partitioner: nil)
        // The first send may go before the partition count is known (round robin); later ones are routed.
        for round in 0..<3 {
            let records = (0..<600).map { index in
                KafkaProducerRecord(
                    topic: topic, key: index % 5 == 0 ? nil : KafkaTestSupport.bytes("k\(index)"), value: KafkaTestSupport.bytes("\(round)-\(index)"))
            }
            let results = await pool.send(records)
            #expect(results.count == records.count)
            var lastOffset: [Int32: Int64] = [:]
            for (record, result) in zip(records, results) {
                let report = try result.get()
                #expect(report.topic == topic)
                if let key = record.key { #expect(report.partition == partitioner.partition(key: key, count: 12)) }
                if round > 0, record.key != nil {
                    // Routed: within one send, a partition's records come from one producer, in order.
                    #expect(report.offset > lastOffset[report.partition, default: -1])
                    lastOffset[report.partition] = report.offset
                }
            }
            try await Task.sleep(for: .milliseconds(round == 0 ? 1500 : 0))
        }
        #expect(pool.producers.count == 3)
        await pool.shutdown()
    }
}
