import Testing
import TockKafka

@Suite struct KafkaAdminTests {
    @Test func createTopicsCreatesPartitionsAndIsIdempotent() async throws {
        let admin = try KafkaTestSupport.admin()
        let five = TestStack.unique("kafka-admin-five")
        let two = TestStack.unique("kafka-admin-two")
        #expect(try await admin.partitionCount(topic: five) == nil)

        try await admin.createTopics([(name: five, partitions: 5, replicationFactor: 1), (name: two, partitions: 2, replicationFactor: 1)])
        #expect(try await admin.partitionCount(topic: five) == 5)
        #expect(try await admin.partitionCount(topic: two) == 2)

        try await admin.createTopics([(name: five, partitions: 5, replicationFactor: 1)])
        try await admin.createTopic(two, partitions: 7)  // exists: success, partition count unchanged
        #expect(try await admin.partitionCount(topic: five) == 5)
        #expect(try await admin.partitionCount(topic: two) == 2)
        await admin.close()
        await #expect(throws: KafkaError.self) { _ = try await admin.partitionCount(topic: five) }
    }

    @Test func deleteTopicsRemovesTopicsAndIgnoresUnknownOnes() async throws {
        let admin = try KafkaTestSupport.admin()
        let topic = TestStack.unique("kafka-admin-delete")
        try await admin.createTopic(topic, partitions: 3)
        #expect(try await admin.partitionCount(topic: topic) == 3)
        try await admin.deleteTopics([topic, TestStack.unique("kafka-admin-never")])
        try await waitUntil("\(topic) is gone", within: .seconds(10)) { try await admin.partitionCount(topic: topic) == nil }
        // Created again, with another partition count: a new topic.
        try await admin.createTopic(topic, partitions: 2)
        #expect(try await admin.partitionCount(topic: topic) == 2)
        await admin.close()
    }

    @Test("topic ids (KIP-516, resolved at run time): one per topic, a new one when the topic is recreated, none for an unknown topic")
    func topicIDsTellARecreatedTopic() async throws {
        try #require(KafkaAdmin.describesTopicIDs, "the runtime librdkafka lacks rd_kafka_DescribeTopics (2.3.0)")
        let admin = try KafkaTestSupport.admin()
        let topic = TestStack.unique("kafka-admin-id")
        let unknown = TestStack.unique("kafka-admin-unknown")
        try await admin.createTopic(topic, partitions: 1)
        let first = try await admin.topicIDs([topic, unknown])
        #expect(first.count == 1 && first[topic]?.count == 22, "\(first)")
        #expect(try await admin.topicIDs([topic]) == first)
        try await admin.deleteTopics([topic])
        try await waitUntil("\(topic) is gone", within: .seconds(10)) { try await admin.partitionCount(topic: topic) == nil }
        try await admin.createTopic(topic, partitions: 1)
        let second = try await admin.topicIDs([topic])
        #expect(second[topic] != nil && second[topic] != first[topic], "\(first) then \(second)")
        await admin.close()
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
