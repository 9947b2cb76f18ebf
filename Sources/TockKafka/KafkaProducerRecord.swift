/// A record to produce.
public struct KafkaProducerRecord: Sendable, Hashable {
    public var topic: String
    /// `nil` lets the partitioner choose (by key hash when there is a key).
    public var partition: Int32?
    public var key: [UInt8]?
    /// Nil produces a null value (a tombstone on a compacted topic), which an empty value is not.
    public var value: [UInt8]?
    /// Sent in this order.
    public var headers: [KafkaHeader]
    /// An explicit CreateTime in epoch milliseconds. `nil` (the default) lets librdkafka stamp
    /// the time of the produce call, which is what Tock's lateness is measured from.
    public var timestamp: Int64?

    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}
