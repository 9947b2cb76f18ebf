import CRdKafka

/// A record timestamp in epoch milliseconds, with who set it.
public struct KafkaTimestamp: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Set by the producer (librdkafka stamps the produce call's time unless given one).
        case createTime
        /// Set by the broker when it appended the record (topic `message.timestamp.type`).
        case logAppendTime
    }

    public var milliseconds: Int64
    public var kind: Kind

    public init(milliseconds: Int64, kind: Kind) {
        self.milliseconds = milliseconds
        self.kind = kind
    }

    init?(milliseconds: Int64, type: rd_kafka_timestamp_type_t) {
        switch type {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: self.init(milliseconds: milliseconds, kind: .createTime)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: self.init(milliseconds: milliseconds, kind: .logAppendTime)
        default: return nil
        }
    }
}
