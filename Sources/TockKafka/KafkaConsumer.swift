import CRdKafka
import Dispatch
import Logging
import Synchronization
import TockConcurrency

/// A consumer-group member with manual offset management.
///
/// Offsets move only when the caller says so: `enable.auto.offset.store=false` and
/// `enable.auto.commit=false` by default, so a record counts as consumed once the caller stored
/// (`storeOffsets`) and committed (`commit`) it.
///
/// Blocking librdkafka calls run on two dedicated threads, never on the cooperative pool: `poll`,
/// `seek` and `close` on the poll thread, one at a time in call order (rebalance callbacks run
/// there too, inside `poll` and `close`); commits and broker queries on a control thread, so a
/// commit does not queue behind a long poll.
public final class KafkaConsumer: Sendable {
    /// Defaults under the caller's properties.
    public static let defaultProperties: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "client.id": "tock",
    ]

    private let client: KafkaClientHandle
    private let thread: BlockingThread
    private let controlThread: BlockingThread
    private let logger: Logger
    private let closed = Atomic<Bool>(false)
    public let groupId: String
    public let topics: [String]

    /// Creates the consumer and subscribes to `topics`; partitions arrive with the first polls.
    ///
    /// - Parameters:
    ///   - properties: librdkafka properties; they override `defaultProperties` (e.g.
    ///     `session.timeout.ms`, `partition.assignment.strategy=cooperative-sticky`).
    ///   - rebalanceHandler: called on the poll thread, inside `poll`/`close`, after an
    ///     assignment and before a revocation takes effect. It must return quickly and must not
    ///     block on this consumer (a `poll`, `seek` or `close` it waited for would never start);
    ///     `storeOffsets` is safe to call from it.
    public init(
        brokers: String,
        groupId: String,
        topics: [String],
        properties: [String: String] = [:],
        logger: Logger = Logger(label: "tock.kafka.consumer"),
        rebalanceHandler: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil
    ) throws {
        var merged = Self.defaultProperties
        merged["bootstrap.servers"] = brokers
        merged["group.id"] = groupId
        merged.merge(properties) { _, new in new }
        let configuration = try KafkaConfiguration(merged)
        let callbacks = KafkaClientCallbacks(logger: logger, rebalanceHandler: rebalanceHandler)
        let client = try KafkaClientHandle(kind: .consumer, configuration: configuration, callbacks: callbacks)
        self.client = client
        self.logger = logger
        self.groupId = groupId
        self.topics = topics
        thread = BlockingThread(name: "\(client.name)-poll")
        controlThread = BlockingThread(name: "\(client.name)-control")

        try client.withHandle { rk in
            // Route the main queue (error events) into the consumer queue, so one
            // rd_kafka_consumer_poll serves everything and nothing piles up unserved.
            let redirect = rd_kafka_poll_set_consumer(rk)
            guard redirect == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(redirect, "rd_kafka_poll_set_consumer: \(String(cString: rd_kafka_err2str(redirect)))")
            }
            // No topics: the caller assigns partitions itself (`assign`), outside any group.
            guard !topics.isEmpty else { return }
            let subscription = KafkaTopicPartitionList(capacity: topics.count)
            for topic in topics { subscription.add(topic: topic, partition: RD_KAFKA_PARTITION_UA) }
            let err = subscription.withUnsafeMutablePointer { rd_kafka_subscribe(rk, $0) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, "subscribe to \(topics): \(String(cString: rd_kafka_err2str(err)))")
            }
        }
    }

    deinit {
        // Leaving the group blocks, so it happens on the poll thread; no method can be
        // running, since it would hold self.
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let client = self.client
        thread.submit {
            _ = try? client.withHandle { rk in rd_kafka_consumer_close(rk) }
            client.destroy()
        }
    }

    /// Waits up to `timeout` for a first message, then takes what is already fetched, up to
    /// `maxMessages`. Returns an empty array on timeout.
    ///
    /// Partition EOF and transient consumer errors (unknown topic, broker down) are logged, not
    /// thrown; librdkafka retries them. Throws `KafkaError` with `isFatal` when the instance hit a
    /// fatal error, and "closed" after `close()`.
    public func poll(maxMessages: Int, timeout: Duration) async throws -> [KafkaConsumerMessage] {
        try await poll(maxMessages: maxMessages, timeout: timeout, linger: .zero) { ($0, false) }
    }

    /// Like `poll(maxMessages:timeout:)`, but after the first message it waits up to `linger` for
    /// more (a caller that pays per batch gets fuller ones). `transform` runs on the consumer's
    /// thread for each message; one it marks urgent ends the wait.
    public func poll<T: Sendable>(
        maxMessages: Int, timeout: Duration, linger: Duration,
        transform: @escaping @Sendable (KafkaConsumerMessage) -> (value: T, urgent: Bool)
    ) async throws -> [T] {
        let timeoutMilliseconds = timeout.kafkaMilliseconds
        let lingerMilliseconds = linger.kafkaMilliseconds
        return try await thread.run { [client, logger] in
            try client.withHandle { rk in
                try Self.poll(
                    rk, client: client, logger: logger, maxMessages: maxMessages, timeoutMilliseconds: timeoutMilliseconds,
                    lingerMilliseconds: lingerMilliseconds, transform: transform)
            }
        }
    }

    private static func poll<T>(
        _ rk: OpaquePointer, client: KafkaClientHandle, logger: Logger, maxMessages: Int, timeoutMilliseconds: Int32,
        lingerMilliseconds: Int32, transform: (KafkaConsumerMessage) -> (value: T, urgent: Bool)
    ) throws -> [T] {
        if let fatal = client.callbacks.fatalError { throw fatal }
        var values: [T] = []
        values.reserveCapacity(min(maxMessages, 1024))
        var deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
        var lingering = false
        var topicCache: (handle: OpaquePointer, name: String)?

        while values.count < maxMessages {
            // Wait for the first message, then for the linger; after that take what is already there.
            var wait: Int32 = 0
            if values.isEmpty || lingering {
                let now = DispatchTime.now().uptimeNanoseconds
                wait = now >= deadline ? 0 : Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            }
            guard let message = rd_kafka_consumer_poll(rk, wait) else {
                if wait > 0 { continue }
                break
            }
            defer { rd_kafka_message_destroy(message) }
            let err = message.pointee.err
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                try handleConsumerError(rk, message, logger: logger)
                continue
            }
            let topic: String
            if let cached = topicCache, cached.handle == message.pointee.rkt {
                topic = cached.name
            } else {
                topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                if let handle = message.pointee.rkt { topicCache = (handle, topic) }
            }
            let (value, urgent) = transform(KafkaConsumerMessage(copying: message, topic: topic))
            if values.isEmpty && lingerMilliseconds > 0 {
                lingering = true
                deadline = DispatchTime.now().uptimeNanoseconds + UInt64(lingerMilliseconds) * 1_000_000
            }
            if urgent { lingering = false }
            values.append(value)
        }
        return values
    }

    private static func handleConsumerError(_ rk: OpaquePointer, _ message: UnsafeMutablePointer<rd_kafka_message_t>, logger: Logger) throws {
        let err = message.pointee.err
        switch err {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
            return
        case RD_KAFKA_RESP_ERR__FATAL:
            let error = KafkaError.fatalError(of: rk) ?? KafkaError(code: .fatal, message: "consumer fatal error", isRetriable: false, isFatal: true)
            logger.critical("Kafka consumer fatal error: \(error)")
            throw error
        default:
            let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(err))
            let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "-"
            logger.warning("Kafka consumer error \(String(cString: rd_kafka_err2name(err))) on \(topic)/\(message.pointee.partition): \(text)")
        }
    }

    /// Marks offsets for the next `commit()` (`rd_kafka_offsets_store`). Each offset is the next
    /// one to read, i.e. the last processed offset + 1 (`KafkaConsumerMessage.nextOffset`).
    /// Non-blocking. Throws if a partition is not assigned to this consumer (`_STATE`).
    public func storeOffsets(_ offsets: [KafkaTopicPartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        try client.withHandle { rk in
            let list = KafkaTopicPartitionList(offsets)
            let err = list.withUnsafeMutablePointer { rd_kafka_offsets_store(rk, $0) }
            if let failed = list.firstError("store offset for") { throw failed }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, "store offsets: \(String(cString: rd_kafka_err2str(err)))")
            }
        }
    }

    /// Commits the stored offsets and waits for the broker's answer (runs on the control thread,
    /// concurrently with a `poll` in progress). Having nothing new to commit
    /// (`_NO_OFFSET`) is success.
    public func commit() async throws {
        try await controlThread.run { [client] in
            try client.withHandle { rk in
                let err = rd_kafka_commit(rk, nil, 0)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
                    throw KafkaError(err, "commit: \(String(cString: rd_kafka_err2str(err)))")
                }
            }
        }
    }

    /// Commits exactly `offsets` (each the next offset to read) and waits for the broker's answer.
    public func commit(_ offsets: [KafkaTopicPartitionOffset]) async throws {
        guard !offsets.isEmpty else { return }
        try await controlThread.run { [client] in
            try client.withHandle { rk in
                let list = KafkaTopicPartitionList(offsets)
                let err = list.withUnsafeMutablePointer { rd_kafka_commit(rk, $0, 0) }
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
                    throw KafkaError(err, "commit \(offsets): \(String(cString: rd_kafka_err2str(err)))")
                }
                if let failed = list.firstError("commit") { throw failed }
            }
        }
    }

    /// Moves the fetch position of assigned, actively consumed partitions: the next `poll`
    /// returns records from `offset` on (used to re-read after a failure to store them).
    public func seek(_ offsets: [KafkaTopicPartitionOffset], timeout: Duration = .seconds(5)) async throws {
        guard !offsets.isEmpty else { return }
        let milliseconds = max(1, timeout.kafkaMilliseconds)  // 0 would make the seek asynchronous
        try await thread.run { [client] in
            try client.withHandle { rk in
                let list = KafkaTopicPartitionList(offsets)
                if let error = list.withUnsafeMutablePointer({ rd_kafka_seek_partitions(rk, $0, milliseconds) }) {
                    throw KafkaError(consuming: error)
                }
                if let failed = list.firstError("seek") { throw failed }
            }
        }
    }

    public func seek(_ offset: KafkaTopicPartitionOffset, timeout: Duration = .seconds(5)) async throws {
        try await seek([offset], timeout: timeout)
    }

    /// The group's committed offsets (next offset to read) for `partitions`, asked from the group
    /// coordinator. Partitions without a committed offset are absent.
    public func committed(_ partitions: [KafkaTopicPartition], timeout: Duration = .seconds(5)) async throws -> [KafkaTopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let milliseconds = timeout.kafkaMilliseconds
        return try await controlThread.run { [client] in
            try client.withHandle { rk in
                let list = KafkaTopicPartitionList(partitions)
                let err = list.withUnsafeMutablePointer { rd_kafka_committed(rk, $0, milliseconds) }
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(err, "committed offsets: \(String(cString: rd_kafka_err2str(err)))")
                }
                if let failed = list.firstError("committed offset of") { throw failed }
                return Self.validOffsets(list)
            }
        }
    }

    /// The current fetch positions (next offset `poll` returns) of `partitions`, from local
    /// state. Partitions without a position yet are absent.
    public func position(_ partitions: [KafkaTopicPartition]) throws -> [KafkaTopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        return try client.withHandle { rk in
            let list = KafkaTopicPartitionList(partitions)
            let err = list.withUnsafeMutablePointer { rd_kafka_position(rk, $0) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, "position: \(String(cString: rd_kafka_err2str(err)))")
            }
            return Self.validOffsets(list)
        }
    }

    private static func validOffsets(_ list: KafkaTopicPartitionList) -> [KafkaTopicPartition: Int64] {
        var result: [KafkaTopicPartition: Int64] = [:]
        for element in list.elements where element.err == RD_KAFKA_RESP_ERR_NO_ERROR && element.offset >= 0 {
            result[KafkaTopicPartition(topic: element.topic, partition: element.partition)] = element.offset
        }
        return result
    }

    /// The partitions currently assigned to this consumer. Non-blocking.
    public func assignment() throws -> [KafkaTopicPartition] {
        try client.withHandle { rk in
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            let err = rd_kafka_assignment(rk, &list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
                throw KafkaError(err, "assignment: \(String(cString: rd_kafka_err2str(err)))")
            }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            return KafkaTopicPartitionList.elements(of: list).map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) }
        }
    }

    /// Reads exactly `offsets` from now on, each from its offset, outside any group's assignment
    /// (a consumer made with no topics). Runs on the poll thread, after any poll in progress.
    public func assign(_ offsets: [KafkaTopicPartitionOffset]) async throws {
        try await thread.run { [client] in
            try client.withHandle { rk in
                let list = KafkaTopicPartitionList(offsets)
                let err = list.withUnsafeMutablePointer { rd_kafka_assign(rk, $0) }
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "assign: \(String(cString: rd_kafka_err2str(err)))") }
            }
        }
    }

    /// Adds `adding` (each read from its offset) to what this consumer reads, and removes
    /// `removing`, leaving the other partitions' fetches alone (`rd_kafka_incremental_assign` and
    /// `_unassign`, outside any group's assignment).
    public func changeAssignment(adding: [KafkaTopicPartitionOffset], removing: [KafkaTopicPartition]) async throws {
        guard !adding.isEmpty || !removing.isEmpty else { return }
        try await thread.run { [client] in
            try client.withHandle { rk in
                if !removing.isEmpty {
                    let list = KafkaTopicPartitionList(removing)
                    if let error = list.withUnsafeMutablePointer({ rd_kafka_incremental_unassign(rk, $0) }) { throw KafkaError(consuming: error) }
                }
                if !adding.isEmpty {
                    let list = KafkaTopicPartitionList(adding)
                    if let error = list.withUnsafeMutablePointer({ rd_kafka_incremental_assign(rk, $0) }) { throw KafkaError(consuming: error) }
                }
            }
        }
    }

    /// Polls until the group has given this consumer partitions, or `timeout` passed (false).
    /// Records a poll returns meanwhile are dropped: call it before anything this consumer must
    /// see is produced (tests, benchmarks, `tock demo`).
    @discardableResult
    public func waitForAssignment(timeout: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while (try? assignment().isEmpty) ?? true {
            if ContinuousClock.now >= deadline { return false }
            _ = try await poll(maxMessages: 100, timeout: .milliseconds(100))
        }
        return true
    }

    /// Stops fetching from `partitions` until `resume`; their position is kept. Non-blocking.
    public func pause(_ partitions: [KafkaTopicPartition]) throws {
        try changeFetching(partitions, pause: true)
    }

    public func resume(_ partitions: [KafkaTopicPartition]) throws {
        try changeFetching(partitions, pause: false)
    }

    private func changeFetching(_ partitions: [KafkaTopicPartition], pause: Bool) throws {
        guard !partitions.isEmpty else { return }
        try client.withHandle { rk in
            let list = KafkaTopicPartitionList(partitions)
            let err = list.withUnsafeMutablePointer { pause ? rd_kafka_pause_partitions(rk, $0) : rd_kafka_resume_partitions(rk, $0) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, "\(pause ? "pause" : "resume"): \(String(cString: rd_kafka_err2str(err)))")
            }
            if let failed = list.firstError(pause ? "pause" : "resume") { throw failed }
        }
    }

    /// Low and high watermark (first offset still present, next offset to be written), asked
    /// from the partition leader.
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(5)) async throws -> (low: Int64, high: Int64) {
        let milliseconds = timeout.kafkaMilliseconds
        let result = try await controlThread.run { [client] in
            try client.withHandle { rk in
                let marks = try KafkaClientHandle.watermarks(rk, topic: topic, partition: partition, timeoutMilliseconds: milliseconds)
                return [marks.low, marks.high]
            }
        }
        return (result[0], result[1])
    }

    /// The partition's high watermark as of the last fetch response for it (librdkafka's cached
    /// value, `rd_kafka_get_watermark_offsets`: no broker round trip), or nil before any fetch.
    /// Non-blocking.
    public func fetchedHighWatermark(topic: String, partition: Int32) -> Int64? {
        try? client.withHandle { rk in
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_get_watermark_offsets(rk, topic, partition, &low, &high)
            return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
        }
    }

    /// The first offset still present in the partition.
    public func lowWatermark(topic: String, partition: Int32, timeout: Duration = .seconds(5)) async throws -> Int64 {
        try await watermarks(topic: topic, partition: partition, timeout: timeout).low
    }

    /// The number of partitions of `topic` per cluster metadata, or nil if the topic is unknown.
    public func partitionCount(topic: String, timeout: Duration = .seconds(5)) async throws -> Int? {
        let milliseconds = timeout.kafkaMilliseconds
        return try await controlThread.run { [client] in
            try client.withHandle { rk in try KafkaClientHandle.partitionCount(rk, topic: topic, timeoutMilliseconds: milliseconds) }
        }
    }

    /// Leaves the group cleanly (revoking partitions through the rebalance handler; stored but
    /// uncommitted offsets are not committed, since auto-commit is off) and destroys the
    /// instance. Later calls throw "closed". Idempotent.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await thread.run { [client, logger] in
            _ = try? client.withHandle { rk in
                let err = rd_kafka_consumer_close(rk)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.warning("Kafka consumer close: \(KafkaError(err))")
                }
            }
            client.destroy()
        }
        // The thread itself ends when the consumer is released: ending it here could strand a
        // call racing with close, whose job would never run.
    }
}
