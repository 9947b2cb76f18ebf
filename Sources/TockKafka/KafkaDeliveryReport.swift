/// Where the broker stored a produced record.
public struct KafkaDeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    /// The broker-assigned offset. librdkafka may report -1001 (unknown) for a record whose
    /// produce request was retried under idempotence.
    public var offset: Int64
    /// The record's timestamp: the CreateTime librdkafka stamped (or the explicit one), or the
    /// broker's LogAppendTime if the topic uses that; nil if unavailable.
    public var timestamp: KafkaTimestamp?
    /// From when the record was handed to librdkafka to the broker's acknowledgement (librdkafka's
    /// `rd_kafka_message_latency`), in microseconds; nil if unknown.
    public var latencyMicros: Int64?

    public init(topic: String, partition: Int32, offset: Int64, timestamp: KafkaTimestamp?, latencyMicros: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.latencyMicros = latencyMicros
    }
}
