import CRdKafka

/// The partition librdkafka's configured `partitioner` would give a keyed record, computed before
/// the record is produced, so a `KafkaProducerPool` can hand it to the producer that owns that
/// partition. Records without a key, and the `random` partitioner, have no fixed partition: for
/// Tock's output records, `partition(key:id:count:)` then fixes one from the `tock-id`.
public struct KafkaKeyPartitioner: Sendable {
    enum Hash: Sendable { case crc32, murmur2, fnv1a, none }
    let hash: Hash

    /// - Parameter name: the `partitioner` property (librdkafka's default is `consistent_random`).
    ///   An unknown name routes every record like a keyless one, so librdkafka still decides.
    public init(partitioner name: String?) {
        switch name ?? "consistent_random" {
        case "consistent", "consistent_random": hash = .crc32
        case "murmur2", "murmur2_random": hash = .murmur2
        case "fnv1a", "fnv1a_random": hash = .fnv1a
        default: hash = .none
        }
    }

    /// The partition of `key` among `count` partitions, or nil if it is not fixed by the key.
    public func partition(key: [UInt8]?, count: Int32) -> Int32? {
        guard let key, !key.isEmpty, count > 0, hash != .none else { return nil }
        // These three partitioners only hash the key; they never touch the topic handle.
        return key.withUnsafeBytes { bytes in
            switch hash {
            case .crc32: rd_kafka_msg_partitioner_consistent(nil, bytes.baseAddress, bytes.count, count, nil, nil)
            case .murmur2: rd_kafka_msg_partitioner_murmur2(nil, bytes.baseAddress, bytes.count, count, nil, nil)
            case .fnv1a: rd_kafka_msg_partitioner_fnv1a(nil, bytes.baseAddress, bytes.count, count, nil, nil)
            case .none: nil
            }
        }
    }

    /// The partition of an output record: its key's under the configured partitioner, or, for a
    /// record without a key (or a partitioner that does not hash keys), librdkafka's consistent
    /// hash of `id`. So where a record was written is known without its delivery report: the
    /// next owner of a delivery whose lease ran out reads that partition back.
    public func partition(key: [UInt8]?, id: String, count: Int32) -> Int32? {
        guard count > 0 else { return nil }
        if let partition = partition(key: key, count: count) { return partition }
        var id = id
        return id.withUTF8 { bytes in rd_kafka_msg_partitioner_consistent(nil, bytes.baseAddress, bytes.count, count, nil, nil) }
    }
}
