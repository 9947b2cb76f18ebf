/// One record header. Kafka allows the same key more than once and keeps headers in order.
public struct KafkaHeader: Sendable, Hashable {
    public var key: String
    /// `nil` is a null header value, which Kafka distinguishes from an empty one.
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is the UTF-8 encoding of `string`.
    public init(key: String, string: String) {
        self.init(key: key, value: Array(string.utf8))
    }
}
