import CRdKafka
import Foundation
import Logging
import TockConcurrency

/// Owns one `rd_kafka_t` and the callback state librdkafka reaches through its opaque pointer.
///
/// The pointer is lent only inside `withHandle`, and `destroy()` waits until no one borrows it, so
/// an explicit shutdown can run `rd_kafka_destroy` while other tasks still hold the owner object:
/// their later calls throw "closed" instead of touching freed memory.
final class KafkaClientHandle: @unchecked Sendable {
    enum Kind {
        case producer, consumer

        var cType: rd_kafka_type_t { self == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER }
    }

    let callbacks: KafkaClientCallbacks
    /// librdkafka's instance name (e.g. `rdkafka#producer-1`), for logs.
    let name: String

    // Guards everything below; a condition so `destroy` can wait for borrowers to return.
    private let condition = NSCondition()
    private var pointer: OpaquePointer?
    private var borrowers = 0
    private var destroying = false
    // One retain owned by librdkafka's opaque; released only after rd_kafka_destroy has returned,
    // because librdkafka's threads may log until then.
    private let opaque: Unmanaged<KafkaClientCallbacks>

    init(kind: Kind, configuration: KafkaConfiguration, callbacks: KafkaClientCallbacks) throws {
        self.callbacks = callbacks
        let opaque = Unmanaged.passRetained(callbacks)
        self.opaque = opaque
        configuration.withUnsafePointer { conf in
            rd_kafka_conf_set_opaque(conf, opaque.toOpaque())
            rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
            rd_kafka_conf_set_error_cb(conf, kafkaErrorCallback)
            rd_kafka_conf_set_stats_cb(conf, kafkaStatisticsCallback)
            switch kind {
            case .producer: rd_kafka_conf_set_dr_msg_cb(conf, kafkaDeliveryReportCallback)
            case .consumer: rd_kafka_conf_set_rebalance_cb(conf, kafkaRebalanceCallback)
            }
        }
        var errstr = [CChar](repeating: 0, count: 512)
        let created: OpaquePointer? = configuration.consume { conf in
            let rk = rd_kafka_new(kind.cType, conf, &errstr, errstr.count)
            return (rk, rk != nil)
        }
        guard let created else {
            opaque.release()
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_new failed: \(String(errorBuffer: errstr))", isRetriable: false)
        }
        pointer = created
        name = String(cString: rd_kafka_name(created))
    }

    deinit { destroy() }

    /// Lends the `rd_kafka_t`. Throws `KafkaError` (`_DESTROY`) once `destroy()` has begun.
    /// `body` must not call `destroy()`.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        condition.lock()
        guard !destroying, let rk = pointer else {
            condition.unlock()
            throw KafkaError.closed("Kafka client \(name)")
        }
        borrowers += 1
        condition.unlock()
        defer {
            condition.lock()
            borrowers -= 1
            if borrowers == 0 { condition.broadcast() }
            condition.unlock()
        }
        return try body(rk)
    }

    /// Blocks until current borrowers return, then runs `rd_kafka_destroy` (which itself blocks
    /// while librdkafka tears down its threads). Call it on a dedicated thread. Idempotent.
    func destroy() {
        condition.lock()
        if destroying {
            condition.unlock()
            return
        }
        destroying = true
        while borrowers > 0 { condition.wait() }
        let rk = pointer
        pointer = nil
        condition.unlock()
        guard let rk else { return }
        rd_kafka_destroy(rk)
        opaque.release()
    }

    /// The number of partitions of `topic` according to cluster metadata, or nil if the broker
    /// does not know the topic. Blocking.
    static func partitionCount(_ rk: OpaquePointer, topic: String, timeoutMilliseconds: Int32) throws -> Int? {
        // all_topics=1 rather than a topic handle: asking for one topic by name may auto-create it.
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        let err = rd_kafka_metadata(rk, 1, nil, &metadata, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(err, "metadata request failed: \(String(cString: rd_kafka_err2str(err)))")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let topics = metadata.pointee.topics
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            guard let item = topics?[index], String(cString: item.topic) == topic else { continue }
            if item.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART { return nil }
            if item.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(item.err, "metadata for \(topic): \(String(cString: rd_kafka_err2str(item.err)))")
            }
            return Int(item.partition_cnt)
        }
        return nil
    }

    /// One metadata round trip that names no topic: it answers only when a broker does. Blocking.
    static func brokerRoundTrip(_ rk: OpaquePointer, timeoutMilliseconds: Int32) throws {
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        let err = rd_kafka_metadata(rk, 0, nil, &metadata, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(err, "no broker answered a metadata request: \(String(cString: rd_kafka_err2str(err)))")
        }
        rd_kafka_metadata_destroy(metadata)
    }

    /// `brokerRoundTrip` run on `thread`, so the caller does not block.
    func brokerRoundTrip(timeout: Duration, on thread: BlockingThread) async throws {
        let milliseconds = timeout.kafkaMilliseconds
        try await thread.run { [self] in
            try withHandle { rk in try Self.brokerRoundTrip(rk, timeoutMilliseconds: milliseconds) }
        }
    }

    /// `partitionCount` run on `thread`, so the caller does not block.
    func partitionCount(topic: String, timeout: Duration, on thread: BlockingThread) async throws -> Int? {
        let milliseconds = timeout.kafkaMilliseconds
        return try await thread.run { [self] in
            try withHandle { rk in try Self.partitionCount(rk, topic: topic, timeoutMilliseconds: milliseconds) }
        }
    }

    /// Low and high watermark of a partition, asked from the broker. Blocking.
    static func watermarks(_ rk: OpaquePointer, topic: String, partition: Int32, timeoutMilliseconds: Int32) throws -> (low: Int64, high: Int64) {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, "watermarks of \(topic)/\(partition): \(String(cString: rd_kafka_err2str(err)))")
        }
        return (low, high)
    }
}

extension Duration {
    /// Whole milliseconds for librdkafka timeouts, rounded up so a short positive wait stays positive.
    var kafkaMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: millis)
    }
}
