import CRdKafka
import Logging
import TockConcurrency

/// Topic administration, on a producer-type instance of its own. Admin requests and metadata
/// requests wait on the admin's dedicated thread.
public final class KafkaAdmin: Sendable {
    private let client: KafkaClientHandle
    private let thread: BlockingThread

    public init(brokers: String, properties: [String: String] = [:], logger: Logger = Logger(label: "tock.kafka.admin")) throws {
        var merged = ["bootstrap.servers": brokers, "client.id": "tock-admin"]
        merged.merge(properties) { _, new in new }
        let configuration = try KafkaConfiguration(merged)
        let client = try KafkaClientHandle(kind: .producer, configuration: configuration, callbacks: KafkaClientCallbacks(logger: logger))
        self.client = client
        thread = BlockingThread(name: "\(client.name)-admin")
    }

    deinit {
        let client = self.client
        thread.submit { client.destroy() }
    }

    /// Creates `topics`, each with its topic `configs` if any (e.g. `retention.ms`); a topic that
    /// already exists counts as created (neither its partition count nor its configs are
    /// checked). Throws the first other per-topic error.
    public func createTopics(
        _ topics: [(name: String, partitions: Int, replicationFactor: Int)], configs: [String: [String: String]] = [:],
        timeout: Duration = .seconds(10)
    ) async throws {
        guard !topics.isEmpty else { return }
        let milliseconds = timeout.kafkaMilliseconds
        try await thread.run { [client] in
            try client.withHandle { rk in try Self.createTopics(rk, topics, configs: configs, timeoutMilliseconds: milliseconds) }
        }
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1, timeout: Duration = .seconds(10)) async throws {
        try await createTopics([(name, partitions, replicationFactor)], timeout: timeout)
    }

    private static func createTopics(
        _ rk: OpaquePointer, _ topics: [(name: String, partitions: Int, replicationFactor: Int)], configs: [String: [String: String]],
        timeoutMilliseconds: Int32
    ) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for topic in topics {
            guard
                let newTopic = rd_kafka_NewTopic_new(
                    topic.name, Int32(clamping: topic.partitions), Int32(clamping: topic.replicationFactor), &errstr, errstr.count)
            else {
                throw KafkaError(code: .invalidArgument, message: "topic \(topic.name): \(String(errorBuffer: errstr))", isRetriable: false)
            }
            newTopics.append(newTopic)
            for (name, value) in configs[topic.name] ?? [:] {
                let err = rd_kafka_NewTopic_set_config(newTopic, name, value)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "topic \(topic.name): config \(name)=\(value)") }
            }
        }

        try KafkaAdminRequest.changeTopics(
            rk, operation: RD_KAFKA_ADMIN_OP_CREATETOPICS, name: "CreateTopics", action: "create", tolerated: RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
            timeoutMilliseconds: timeoutMilliseconds,
            submit: { options, queue in
                newTopics.withUnsafeMutableBufferPointer { rd_kafka_CreateTopics(rk, $0.baseAddress, $0.count, options, queue) }
            },
            topicResults: { event, count in rd_kafka_event_CreateTopics_result(event).map { rd_kafka_CreateTopics_result_topics($0, &count) } })
    }

    /// Deletes `topics`; a topic that does not exist counts as deleted. Throws the first other
    /// per-topic error.
    public func deleteTopics(_ topics: [String], timeout: Duration = .seconds(10)) async throws {
        guard !topics.isEmpty else { return }
        let milliseconds = timeout.kafkaMilliseconds
        try await thread.run { [client] in
            try client.withHandle { rk in try Self.deleteTopics(rk, topics, timeoutMilliseconds: milliseconds) }
        }
    }

    private static func deleteTopics(_ rk: OpaquePointer, _ topics: [String], timeoutMilliseconds: Int32) throws {
        var deleted: [OpaquePointer?] = topics.map { rd_kafka_DeleteTopic_new($0) }
        defer { for topic in deleted { rd_kafka_DeleteTopic_destroy(topic) } }
        try KafkaAdminRequest.changeTopics(
            rk, operation: RD_KAFKA_ADMIN_OP_DELETETOPICS, name: "DeleteTopics", action: "delete", tolerated: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            timeoutMilliseconds: timeoutMilliseconds,
            submit: { options, queue in
                deleted.withUnsafeMutableBufferPointer { rd_kafka_DeleteTopics(rk, $0.baseAddress, $0.count, options, queue) }
            },
            topicResults: { event, count in rd_kafka_event_DeleteTopics_result(event).map { rd_kafka_DeleteTopics_result_topics($0, &count) } })
    }

    /// Whether `topicIDs` can ask: the runtime librdkafka has `rd_kafka_DescribeTopics` (2.3.0).
    public static var describesTopicIDs: Bool { KafkaTopicDescriber.shared != nil }

    /// Each topic's id (KIP-516, base64), for the topics the broker knows and gives one for;
    /// empty when the runtime librdkafka cannot ask (`describesTopicIDs`).
    public func topicIDs(_ topics: [String], timeout: Duration = .seconds(5)) async throws -> [String: String] {
        guard let describer = KafkaTopicDescriber.shared, !topics.isEmpty else { return [:] }
        let milliseconds = timeout.kafkaMilliseconds
        return try await thread.run { [client] in
            try client.withHandle { rk in try describer.topicIDs(rk, topics: topics, timeoutMilliseconds: milliseconds) }
        }
    }

    /// The number of partitions of `topic` per cluster metadata, or nil if the topic is unknown.
    public func partitionCount(topic: String, timeout: Duration = .seconds(5)) async throws -> Int? {
        try await client.partitionCount(topic: topic, timeout: timeout, on: thread)
    }

    /// Destroys the instance. Later calls throw "closed". Idempotent.
    public func close() async {
        // The thread ends when the admin is released (see KafkaConsumer.close).
        await thread.run { [client] in client.destroy() }
    }
}
