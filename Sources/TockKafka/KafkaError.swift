import CRdKafka

/// An error from librdkafka or from this module's use of it.
///
/// Every error carries a librdkafka response code (`rd_kafka_resp_err_t`), so callers can match
/// on `code` without importing the C module; errors that originate in Swift (a closed client, a
/// bad property) reuse the librdkafka code that means the same thing.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// A librdkafka response code (`rd_kafka_resp_err_t` raw value): negative codes are
    /// librdkafka-internal, positive ones come from the broker.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ err: rd_kafka_resp_err_t) { self.rawValue = err.rawValue }

        /// The librdkafka symbolic name, e.g. `MSG_SIZE_TOO_LARGE` or `_TIMED_OUT`.
        public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue))) }
        public var description: String { "\(name) (\(rawValue))" }

        public static let noError = Code(RD_KAFKA_RESP_ERR_NO_ERROR)
        public static let badMessage = Code(RD_KAFKA_RESP_ERR__BAD_MSG)
        public static let destroyed = Code(RD_KAFKA_RESP_ERR__DESTROY)
        public static let failed = Code(RD_KAFKA_RESP_ERR__FAIL)
        public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
        public static let messageTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        public static let partitionEOF = Code(RD_KAFKA_RESP_ERR__PARTITION_EOF)
        public static let unknownPartition = Code(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
        public static let unknownTopic = Code(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
        public static let noOffset = Code(RD_KAFKA_RESP_ERR__NO_OFFSET)
        public static let purgedQueued = Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
        public static let purgedInFlight = Code(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
        public static let interrupted = Code(RD_KAFKA_RESP_ERR__INTR)
        public static let unsupportedFeature = Code(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
        public static let assignmentLost = Code(RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST)
        public static let unknownTopicOrPartition = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        public static let leaderNotAvailable = Code(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
        public static let notLeaderForPartition = Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
        public static let requestTimedOut = Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
        public static let messageSizeTooLarge = Code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        public static let invalidMessageSize = Code(RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE)
        public static let recordListTooLarge = Code(RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE)
        public static let rebalanceInProgress = Code(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
        public static let illegalGeneration = Code(RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION)
        public static let unknownMemberId = Code(RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID)
        public static let outOfOrderSequenceNumber = Code(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER)
        public static let producerFenced = Code(RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
        public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        public static let invalidConfig = Code(RD_KAFKA_RESP_ERR_INVALID_CONFIG)
        public static let topicAuthorizationFailed = Code(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        public static let clusterAuthorizationFailed = Code(RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
        /// The broker's InvalidTopicException: the topic name is not a valid one.
        public static let invalidTopic = Code(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION)
        public static let unsupportedForMessageFormat = Code(RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT)
        public static let invalidRecord = Code(RD_KAFKA_RESP_ERR_INVALID_RECORD)
        public static let groupAuthorizationFailed = Code(RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)
    }

    /// The librdkafka response code.
    public let code: Code
    /// A human-readable explanation (librdkafka's error string, plus context where useful).
    public let message: String
    /// Retrying the same operation may succeed (a transient broker, network or queue condition).
    public let isRetriable: Bool
    /// The client instance is unusable (e.g. the idempotent producer lost its guarantees);
    /// it must be recreated.
    public let isFatal: Bool
    /// For configuration errors: the librdkafka property that was rejected.
    public let configKey: String?
    /// librdkafka refused the record in the produce call itself, so it was never queued or sent:
    /// the error concerns that record alone, not a batch it shared with others.
    public let refusedBeforeSending: Bool
    /// For a delivery report: the record may be in the log all the same (librdkafka's
    /// `rd_kafka_message_status` is not `NOT_PERSISTED`). A purge of librdkafka's queue can take a
    /// record a failed request left there to be sent again, after the broker may have written it.
    public var mayBePersisted = false

    public init(
        code: Code, message: String, isRetriable: Bool? = nil, isFatal: Bool = false, configKey: String? = nil,
        refusedBeforeSending: Bool = false
    ) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable ?? (!isFatal && Self.isRetriable(code))
        self.isFatal = isFatal || code == .fatal
        self.configKey = configKey
        self.refusedBeforeSending = refusedBeforeSending
    }

    /// The symbolic name of `code`, e.g. `MSG_SIZE_TOO_LARGE`.
    public var name: String { code.name }

    public var description: String {
        var text = "KafkaError \(code.name) (\(code.rawValue)): \(message)"
        if let configKey { text += " [property \(configKey)]" }
        if isFatal { text += " [fatal]" } else if isRetriable { text += " [retriable]" }
        if mayBePersisted { text += " [possibly persisted]" }
        return text
    }

    /// Producing the same record again can never succeed: librdkafka refused it in the produce
    /// call for what it is (larger than `message.max.bytes`, an invalid argument), or the broker
    /// refused its topic (an invalid name, no permission to write, a message format too old for
    /// headers). `isRetriable` is no guide here: it is false for every code it does not know.
    ///
    /// Conservative, since a wrong "yes" dead-letters a record that could have been delivered:
    /// anything about the moment (timeouts, brokers, leaders, a topic or partition not created
    /// yet, a fatal or closed producer, a purge) is not permanent, and neither is a size or
    /// validation error the broker reports. librdkafka fails the whole batch with the latter
    /// (e.g. a batch of small records larger than the topic's `max.message.bytes`), and the
    /// record may get through alone or in a smaller batch.
    public var rejectsRecord: Bool {
        switch rd_kafka_resp_err_t(rawValue: code.rawValue) {
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
            RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
            // One topic-partition per batch: every record in it goes to the same topic.
            return true
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR__INVALID_ARG:
            return refusedBeforeSending
        default:
            return false
        }
    }

    // Only plain response codes reach this: librdkafka has no rd_kafka_error_t for delivery
    // reports, consumer messages or offset commits. Conditions a later attempt can outlive count
    // as retriable; anything about the record, the request or the configuration does not.
    static func isRetriable(_ code: Code) -> Bool {
        switch rd_kafka_resp_err_t(rawValue: code.rawValue) {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
            RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL,
            RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__RETRY,
            RD_KAFKA_RESP_ERR__ISR_INSUFF, RD_KAFKA_RESP_ERR__IN_PROGRESS, RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS,
            RD_KAFKA_RESP_ERR__UNKNOWN_BROKER, RD_KAFKA_RESP_ERR__NODE_UPDATE,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_NOT_CONTROLLER,
            RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND,
            RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH, RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH,
            RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH, RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT,
            RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS,
            RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
            return true
        default:
            return false
        }
    }
}

extension KafkaError {
    /// From a plain response code; `detail` defaults to librdkafka's description of the code.
    init(_ err: rd_kafka_resp_err_t, _ detail: String? = nil) {
        let text = detail ?? String(cString: rd_kafka_err2str(err))
        self.init(code: Code(err), message: text)
    }

    /// From an `rd_kafka_error_t`, which knows its own retriable/fatal classification.
    /// Takes ownership: the error object is destroyed.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            code: Code(rd_kafka_error_code(error)),
            message: String(cString: rd_kafka_error_string(error)),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0
        )
    }

    /// Whether the producer that failed with this error can publish no more: the broker fenced
    /// its epoch, or librdkafka raised a fatal error (a broker that lost the producer's state
    /// answers UNKNOWN_PRODUCER_ID, fatal to an idempotent producer). Only a new one publishes.
    public var needsNewProducer: Bool { code == .producerFenced || isFatal }

    static func closed(_ what: String) -> KafkaError {
        KafkaError(code: .destroyed, message: "\(what) is closed", isRetriable: false)
    }

    static func config(key: String, value: String, reason: String) -> KafkaError {
        KafkaError(
            code: .invalidArgument,
            message: "invalid librdkafka property \(key)=\"\(value)\": \(reason)",
            isRetriable: false,
            configKey: key
        )
    }

    /// The underlying error of a client that raised `_FATAL` (rd_kafka_fatal_error), or nil.
    static func fatalError(of rk: OpaquePointer) -> KafkaError? {
        var buffer = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(rk, &buffer, buffer.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(code: Code(err), message: String(errorBuffer: buffer), isRetriable: false, isFatal: true)
    }
}
