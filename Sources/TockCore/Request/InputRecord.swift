/// One record read from an input topic, as the worker hands it to `RequestParser`.
/// Kept free of Kafka types so the parser stays pure and testable.
public struct InputRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The record's timestamp (CreateTime or LogAppendTime); nil when the record has none.
    public var timestampMillis: Int64?
    public var key: [UInt8]?
    /// Nil for a null value, which is delivered as null: on a compacted topic it deletes the key.
    public var value: [UInt8]?
    /// In record order; names may repeat.
    public var headers: [RecordHeader]

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        timestampMillis: Int64?,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [RecordHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMillis = timestampMillis
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// `topic/partition/offset`: the `tock-source` of a rejection and the default `tock-id`,
    /// so a re-read of the same record maps to the same id.
    public var source: String { "\(topic)/\(partition)/\(offset)" }
}

/// A Kafka record header. Kafka allows a null value, distinct from an empty one.
public struct RecordHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is the UTF-8 of `text`.
    public init(key: String, text: String) {
        self.key = key
        self.value = Array(text.utf8)
    }
}
