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

    /// Creates `topics`; a topic that already exists counts as created (its partition count is
    /// not checked). Throws the first other per-topic error.
    public func createTopics(_ topics: [(name: String, partitions: Int, replicationFactor: Int)], timeout: Duration = .seconds(10)) async throws {
        guard !topics.isEmpty else { return }
        let milliseconds = timeout.kafkaMilliseconds
        try await thread.run { [client] in
            try client.withHandle { rk in try Self.createTopics(rk, topics, timeoutMilliseconds: milliseconds) }
        }
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1, timeout: Duration = .seconds(10)) async throws {
        try await createTopics([(name, partitions, replicationFactor)], timeout: timeout)
    }

    private static func createTopics(
        _ rk: OpaquePointer, _ topics: [(name: String, partitions: Int, replicationFactor: Int)], timeoutMilliseconds: Int32
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
        }

        guard let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS) else {
            throw KafkaError(code: .failed, message: "rd_kafka_AdminOptions_new failed", isRetriable: false)
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        // Makes the broker answer only once the topics exist, so callers can use them at once.
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errstr, errstr.count)

        let queue = KafkaQueue(client: rk)
        let event: OpaquePointer? = queue.withUnsafePointer { rkqu in
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, rkqu)
            }
            // The request timeout bounds the wait; the margin covers librdkafka's own timer.
            return rd_kafka_queue_poll(rkqu, timeoutMilliseconds + 2000)
        }
        guard let event else {
            throw KafkaError(code: .timedOut, message: "CreateTopics got no result within \(timeoutMilliseconds) ms")
        }
        defer { rd_kafka_event_destroy(event) }

        let eventErr = rd_kafka_event_error(event)
        guard eventErr == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw KafkaError(eventErr, "CreateTopics: \(text)")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(code: .failed, message: "CreateTopics: unexpected event type \(rd_kafka_event_type(event))", isRetriable: false)
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            guard let topicResult = results[index] else { continue }
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(err))
            throw KafkaError(err, "create topic \(name): \(text)")
        }
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
        guard let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS) else {
            throw KafkaError(code: .failed, message: "rd_kafka_AdminOptions_new failed", isRetriable: false)
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errstr, errstr.count)

        let queue = KafkaQueue(client: rk)
        let event: OpaquePointer? = queue.withUnsafePointer { rkqu in
            deleted.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_DeleteTopics(rk, buffer.baseAddress, buffer.count, options, rkqu)
            }
            return rd_kafka_queue_poll(rkqu, timeoutMilliseconds + 2000)
        }
        guard let event else {
            throw KafkaError(code: .timedOut, message: "DeleteTopics got no result within \(timeoutMilliseconds) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventErr = rd_kafka_event_error(event)
        guard eventErr == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw KafkaError(eventErr, "DeleteTopics: \(text)")
        }
        guard let result = rd_kafka_event_DeleteTopics_result(event) else {
            throw KafkaError(code: .failed, message: "DeleteTopics: unexpected event type \(rd_kafka_event_type(event))", isRetriable: false)
        }
        var count = 0
        guard let results = rd_kafka_DeleteTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            guard let topicResult = results[index] else { continue }
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(err))
            throw KafkaError(err, "delete topic \(name): \(text)")
        }
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
