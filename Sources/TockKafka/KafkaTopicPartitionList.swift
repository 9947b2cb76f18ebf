import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t`. Used on one thread at a time, inside one call.
final class KafkaTopicPartitionList {
    typealias Pointer = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    private let pointer: Pointer

    init(capacity: Int = 1) {
        pointer = rd_kafka_topic_partition_list_new(Int32(clamping: max(capacity, 1)))
    }

    convenience init(_ partitions: [KafkaTopicPartition]) {
        self.init(capacity: partitions.count)
        for partition in partitions { add(topic: partition.topic, partition: partition.partition) }
    }

    convenience init(_ offsets: [KafkaTopicPartitionOffset]) {
        self.init(capacity: offsets.count)
        for offset in offsets { add(topic: offset.topic, partition: offset.partition, offset: offset.offset) }
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    func add(topic: String, partition: Int32, offset: Int64? = nil) {
        let element = rd_kafka_topic_partition_list_add(pointer, topic, partition)
        if let offset, let element { element.pointee.offset = offset }
    }

    func withUnsafeMutablePointer<T>(_ body: (Pointer) throws -> T) rethrows -> T {
        try body(pointer)
    }

    struct Element {
        var topic: String
        var partition: Int32
        var offset: Int64
        var err: rd_kafka_resp_err_t
    }

    var elements: [Element] { Self.elements(of: pointer) }

    /// The first per-partition error, naming the partition.
    func firstError(_ operation: String) -> KafkaError? {
        guard let failed = elements.first(where: { $0.err != RD_KAFKA_RESP_ERR_NO_ERROR }) else { return nil }
        return KafkaError(failed.err, "\(operation) \(failed.topic)/\(failed.partition): \(String(cString: rd_kafka_err2str(failed.err)))")
    }

    /// Reads a list librdkafka lends (e.g. to the rebalance callback).
    static func elements(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [Element] {
        let count = Int(list.pointee.cnt)
        guard count > 0, let items = list.pointee.elems else { return [] }
        return (0..<count).map { index in
            let item = items[index]
            return Element(
                topic: item.topic.map { String(cString: $0) } ?? "",
                partition: item.partition,
                offset: item.offset,
                err: item.err
            )
        }
    }
}
