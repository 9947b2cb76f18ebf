import TockKafka

/// A benchmark's output side: a topic of its own, read from its start by a consumer of its own.
enum BenchOutput {
    /// Creates `topic` with `partitions` and returns a consumer assigned to it.
    static func create(_ topic: String, partitions: Int, brokers: String, group: String) async throws -> KafkaConsumer {
        let admin = try KafkaAdmin(brokers: brokers)
        try await admin.createTopic(topic, partitions: partitions)
        await admin.close()
        let consumer = try reader(of: topic, brokers: brokers, group: group)
        try await consumer.waitForAssignment()
        return consumer
    }

    /// A consumer of `topic` from its earliest offset, fetching with little wait.
    static func reader(of topic: String, brokers: String, group: String) throws -> KafkaConsumer {
        try KafkaConsumer(
            brokers: brokers, groupId: group, topics: [topic],
            properties: ["session.timeout.ms": "6000", "fetch.wait.max.ms": "5", "auto.offset.reset": "earliest"])
    }
}
