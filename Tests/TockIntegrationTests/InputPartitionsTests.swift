import Logging
import Testing
import TockCore
import TockKafka
import TockRedis
import TockStore

@testable import TockWorkerKit

/// `InputPartitions` on the real broker and Redis, for what a worker process cannot show on the
/// local broker: a topic recreated under a consumer that keeps its position (librdkafka 2.16
/// crashes on tansu when a subscribed topic is deleted, worker or not: `rd_kafka_metadata_cache_find`,
/// also a plain confluent-kafka consumer). The batches are made here; the evidence (topic ids,
/// stored marks, the log start) is real.
@Suite("Input partitions, checked", .serialized)
struct InputPartitionsTests {
    @Test("a topic id that changes under a reading worker is seen; the partition, read past its start, is read from its start as a new generation")
    func topicRecreatedUnderAKeptPosition() async throws {
        try #require(KafkaAdmin.describesTopicIDs, "the runtime librdkafka lacks rd_kafka_DescribeTopics (2.3.0)")
        let brokers = KafkaTestSupport.brokers
        let topic = TestStack.unique("partitions-kept")
        let admin = try KafkaTestSupport.admin()
        defer { Task { await admin.close() } }
        try await admin.createTopic(topic, partitions: 1)
        let firstID = try #require(try await admin.topicIDs([topic])[topic])
        let store = try ScheduleStore(
            client: RedisClient(configuration: .init(url: try RedisURL(await sharedRedisURL()))), keyPrefix: TestStack.unique("partitions"),
            shardCount: 4, retentionMillis: 3_600_000)
        // What the shards hold of the first incarnation: stored up to offset 9, whose record's
        // fingerprint is the one of `read(9)` below. (Nothing reads the topic before it is deleted:
        // librdkafka 2.16 crashes on tansu when a topic a handle knows is deleted.)
        func read(_ offset: Int64) -> KafkaConsumerMessage {
            KafkaConsumerMessage(topic: topic, partition: 0, offset: offset, key: nil, value: [1], headers: [], timestamp: nil)
        }
        let old = StoreEntry(operation: .noop, topicPartition: "\(topic)/0", offset: 9, id: "x", tombstone: nil, dueMillis: 0, blob: [])
        _ = try await store.store(
            [store.shardMap.shard(of: "x"): [old]],
            watermarks: ["\(topic)/0": BatchWatermark(generation: 0, topicID: firstID, offset: 9, fingerprint: InputRecord(read(9)).fingerprint)],
            nowMillis: 1)

        // A consumer of another topic: only its queries of this one are used.
        let consumer = try KafkaConsumer(brokers: brokers, groupId: TestStack.unique("g"), topics: [TestStack.unique("elsewhere")])
        let finder = try KafkaRecordFinder(brokers: brokers, logger: KafkaTestSupport.logger("finder"))
        let state = WorkerState(workerID: "w", token: "w/1")
        let partitions = InputPartitions(
            store: store, consumer: consumer, admin: admin, finder: finder, state: state, metrics: WorkerMetrics(),
            logger: KafkaTestSupport.logger("partitions", level: .info))
        let p0 = KafkaTopicPartition(topic: topic, partition: 0)
        state.noteAssigned([p0])

        // Reading on from the watermark: the same partition (the record at the watermark, in the
        // batch, is the one stored), under the first topic id.
        var prepared = try await partitions.prepare([read(9), read(10)])
        #expect(prepared.known[p0]?.generation == 0 && prepared.known[p0]?.topicID == firstID && prepared.rewind.isEmpty)
        partitions.stored([p0: 11])

        // The topic is deleted and created again; the consumer goes on reading at its position.
        try await admin.deleteTopics([topic])
        try await waitUntil("\(topic) is gone", within: .seconds(10)) { try await admin.partitionCount(topic: topic) == nil }
        try await admin.createTopic(topic, partitions: 1)
        let secondID = try #require(try await admin.topicIDs([topic])[topic])
        #expect(secondID != firstID)
        prepared = try await partitions.prepare([read(11)])
        #expect(prepared.known[p0]?.generation == 0, "known, so not checked again before the watch looks")
        await partitions.watchTopics()
        // Checked again: new, and read from past its start (offset 11, the log starts at 0). The
        // log start comes from the consumer's metadata, which may not know the new topic yet: the
        // check then throws and the batch is read again, as ingest does.
        var attempts = 0
        try await waitUntil("the check could read the new topic's log start", within: .seconds(10), every: .milliseconds(200)) {
            attempts += 1
            guard let again = try? await partitions.prepare([read(11)]) else { return false }
            prepared = again
            return true
        }
        #expect(prepared.rewind == [p0] && prepared.known[p0] == nil, "after \(attempts) attempts")
        // Read from its start: the new generation, under the new topic id.
        prepared = try await partitions.prepare([read(0)])
        #expect(prepared.rewind.isEmpty && prepared.known[p0]?.generation == 1 && prepared.known[p0]?.topicID == secondID)
        await consumer.close()
    }
}
