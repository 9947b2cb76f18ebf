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
}
