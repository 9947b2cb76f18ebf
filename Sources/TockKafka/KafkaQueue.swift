import CRdKafka

/// Owns an `rd_kafka_queue_t` (e.g. the result queue of an admin request). It must be released
/// before the client it belongs to is destroyed.
final class KafkaQueue {
    private let pointer: OpaquePointer

    init(client rk: OpaquePointer) {
        pointer = rd_kafka_queue_new(rk)
    }

    deinit { rd_kafka_queue_destroy(pointer) }

    func withUnsafePointer<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        try body(pointer)
    }
}
