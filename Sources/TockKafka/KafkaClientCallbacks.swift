import CRdKafka
import Logging
import Synchronization

/// What librdkafka's C callbacks need, reached through the instance opaque (`rd_kafka_opaque`).
final class KafkaClientCallbacks: Sendable {
    let logger: Logger
    let rebalanceHandler: (@Sendable (KafkaRebalanceEvent) -> Void)?
    private let fatal = Mutex<KafkaError?>(nil)

    init(logger: Logger, rebalanceHandler: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil) {
        self.logger = logger
        self.rebalanceHandler = rebalanceHandler
    }

    /// The fatal error librdkafka raised for this instance, if any; the instance is then unusable.
    var fatalError: KafkaError? { fatal.withLock { $0 } }

    func recordFatal(_ error: KafkaError) {
        fatal.withLock { if $0 == nil { $0 = error } }
    }

    static func from(_ opaque: UnsafeMutableRawPointer) -> KafkaClientCallbacks {
        Unmanaged<KafkaClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
    }
}

// The C callbacks below are plain top-level functions: they capture nothing and are not
// actor-isolated, because librdkafka calls them on its own threads (logs) or on whichever
// thread polls (errors, delivery reports, rebalances).

/// Logs arrive on librdkafka's internal threads, up to the end of rd_kafka_destroy.
func kafkaLogCallback(_ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?) {
    guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
    let logger = KafkaClientCallbacks.from(opaque).logger
    // syslog levels: 0 emerg ... 7 debug
    let mapped: Logger.Level
    switch level {
    case ...2: mapped = .critical
    case 3: mapped = .error
    case 4: mapped = .warning
    case 5: mapped = .notice
    case 6: mapped = .info
    default: mapped = .debug
    }
    guard logger.logLevel <= mapped else { return }
    let message = text.map { String(cString: $0) } ?? ""
    let facilityName = facility.map { String(cString: $0) } ?? ""
    logger.log(level: mapped, "\(message)", metadata: ["kafka.facility": "\(facilityName)", "kafka.client": "\(String(cString: rd_kafka_name(rk)))"])
}

/// Generic client errors, served by whoever polls the main queue. Most are transient and
/// librdkafka recovers by itself; a fatal one makes the instance unusable and must be loud.
func kafkaErrorCallback(_ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let callbacks = KafkaClientCallbacks.from(opaque)
    let code = rd_kafka_resp_err_t(rawValue: err)
    let text = reason.map { String(cString: $0) } ?? ""
    if code == RD_KAFKA_RESP_ERR__FATAL {
        let error =
            rk.flatMap { KafkaError.fatalError(of: $0) }
            ?? KafkaError(code: .fatal, message: text, isRetriable: false, isFatal: true)
        callbacks.recordFatal(error)
        callbacks.logger.critical("librdkafka fatal error, client unusable: \(error)")
    } else if code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN {
        callbacks.logger.error("Kafka: all brokers down: \(text)")
    } else {
        callbacks.logger.warning("Kafka error \(String(cString: rd_kafka_err2name(code))): \(text)")
    }
}

/// librdkafka's statistics JSON, only if `statistics.interval.ms` is set (it is off by default):
/// logged at info so an operator who asked for it sees queue and round-trip times per broker.
func kafkaStatisticsCallback(_ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int, _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let opaque, let json else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: json, count: length), as: UTF8.self)
    KafkaClientCallbacks.from(opaque).logger.info("librdkafka statistics", metadata: ["kafka.statistics": "\(text)"])
    return 0  // librdkafka frees the JSON
}

/// Delivery reports, served by the producer's polling thread. The per-message opaque is a
/// retained `KafkaDeliverySlot`, released here.
func kafkaDeliveryReportCallback(_ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let message, let slotPointer = message.pointee._private else { return }
    let slot = Unmanaged<KafkaDeliverySlot>.fromOpaque(slotPointer).takeRetainedValue()
    let m = message.pointee
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(message, &type)
        let latency = rd_kafka_message_latency(message)
        let report = KafkaDeliveryReport(
            topic: slot.batch.topics[slot.index],
            partition: m.partition,
            offset: m.offset,
            timestamp: KafkaTimestamp(milliseconds: milliseconds, type: type),
            latencyMicros: latency >= 0 ? latency : nil
        )
        slot.batch.complete(slot.index, .success(report))
    } else {
        var error = KafkaError(m.err, "delivery to \(slot.batch.topics[slot.index]) failed: \(String(cString: rd_kafka_err2str(m.err)))")
        if m.err == RD_KAFKA_RESP_ERR__FATAL, let rk, let fatal = KafkaError.fatalError(of: rk) { error = fatal }
        error.mayBePersisted = rd_kafka_message_status(message) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED
        slot.batch.complete(slot.index, .failure(error))
    }
}

/// Rebalances, served inside rd_kafka_consumer_poll / rd_kafka_consumer_close on the consumer's
/// thread. Setting this callback makes the application responsible for (un)assigning.
func kafkaRebalanceCallback(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let opaque else { return }
    let callbacks = KafkaClientCallbacks.from(opaque)
    let protocolName = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } ?? "NONE"
    let cooperative = protocolName == "COOPERATIVE"
    let rebalanceProtocol: KafkaRebalanceEvent.RebalanceProtocol = cooperative ? .cooperative : .eager
    let list = partitions.map { KafkaTopicPartitionList.elements(of: $0) } ?? []
    let topicPartitions = list.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) }
    let logger = callbacks.logger

    func check(_ what: String, _ error: OpaquePointer?) {
        if let error { logger.error("Kafka \(what) failed: \(KafkaError(consuming: error))") }
    }
    func check(_ what: String, _ err: rd_kafka_resp_err_t) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { logger.error("Kafka \(what) failed: \(KafkaError(err))") }
    }

    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            check("incremental assign", rd_kafka_incremental_assign(rk, partitions))
        } else {
            check("assign", rd_kafka_assign(rk, partitions))
        }
        logger.info("Kafka partitions assigned (\(protocolName)): \(topicPartitions.map(\.description).joined(separator: ", "))")
        callbacks.rebalanceHandler?(KafkaRebalanceEvent(kind: .assigned, partitions: topicPartitions, rebalanceProtocol: rebalanceProtocol))

    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        let lost = rd_kafka_assignment_lost(rk) != 0
        logger.info("Kafka partitions \(lost ? "lost" : "revoked") (\(protocolName)): \(topicPartitions.map(\.description).joined(separator: ", "))")
        // Before unassigning, so the handler may still store offsets for these partitions.
        callbacks.rebalanceHandler?(
            KafkaRebalanceEvent(kind: lost ? .lost : .revoked, partitions: topicPartitions, rebalanceProtocol: rebalanceProtocol))
        if cooperative {
            check("incremental unassign", rd_kafka_incremental_unassign(rk, partitions))
        } else {
            check("unassign", rd_kafka_assign(rk, nil))
        }

    default:
        // A failed rebalance: drop everything; the group protocol will assign again.
        logger.error("Kafka rebalance error: \(KafkaError(err))")
        callbacks.rebalanceHandler?(KafkaRebalanceEvent(kind: .lost, partitions: topicPartitions, rebalanceProtocol: rebalanceProtocol))
        check("unassign", rd_kafka_assign(rk, nil))
    }
}
