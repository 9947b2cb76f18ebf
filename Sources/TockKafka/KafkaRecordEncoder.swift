import CRdKafka

/// Turns `KafkaProducerRecord`s into `rd_kafka_produceva` calls.
///
/// `rd_kafka_producev` is variadic and cannot be called from Swift; `produceva` takes the same
/// tagged values as an array. All C strings and header bytes of one record are laid out in a
/// scratch arena reused across the records of a batch; librdkafka copies everything
/// (`RD_KAFKA_MSG_F_COPY`) before `produceva` returns, so the arena is free again afterwards.
final class KafkaRecordEncoder {
    private var arena: UnsafeMutableRawPointer
    private var capacity: Int
    private var values: [rd_kafka_vu_t] = []

    init(capacity: Int = 4096) {
        self.capacity = capacity
        arena = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit { arena.deallocate() }

    /// Enqueues `records[start...]` in order. Returns the index of the first record not enqueued:
    /// `records.count`, or earlier if librdkafka's queue is full (retry from there after it
    /// drained). Other produce failures complete that record's slot in `batch` and go on.
    func produce(_ records: [KafkaProducerRecord], from start: Int, batch: KafkaDeliveryBatch, rk: OpaquePointer) -> Int {
        for index in start..<records.count {
            let slot = Unmanaged.passRetained(KafkaDeliverySlot(batch: batch, index: index))
            guard let failure = produce(records[index], opaque: slot.toOpaque(), rk: rk) else { continue }
            // On failure librdkafka created no message, so the slot comes back to us.
            slot.release()
            let error = KafkaError(consuming: failure)
            if error.code == .queueFull { return index }
            batch.complete(
                index,
                .failure(
                    KafkaError(
                        code: error.code,
                        message: "produce to \(records[index].topic) failed: \(error.message)",
                        isRetriable: error.isRetriable,
                        isFatal: error.isFatal,
                        refusedBeforeSending: true
                    )))
        }
        return records.count
    }

    /// One `rd_kafka_produceva` call; returns its `rd_kafka_error_t` (owned by the caller) or nil.
    private func produce(_ record: KafkaProducerRecord, opaque: UnsafeMutableRawPointer, rk: OpaquePointer) -> OpaquePointer? {
        var needed = record.topic.utf8.count + 1 + (record.key?.count ?? 0) + 1
        for header in record.headers { needed += header.key.utf8.count + 1 + (header.value?.count ?? 0) }
        reserve(needed)

        var cursor = arena
        // A non-null address for empty byte strings: Kafka tells an empty key/value/header from a null one.
        let emptyBytes = UnsafeRawPointer(arena)
        func place(_ string: String) -> UnsafePointer<CChar> {
            let start = cursor
            let count = string.utf8.count
            UnsafeMutableRawBufferPointer(start: cursor, count: count).copyBytes(from: string.utf8)
            cursor.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
            cursor += count + 1
            return UnsafePointer(start.assumingMemoryBound(to: CChar.self))
        }
        func place(_ bytes: [UInt8]) -> UnsafeRawPointer {
            guard !bytes.isEmpty else { return emptyBytes }
            let start = cursor
            bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(start: cursor, count: bytes.count).copyMemory(from: $0) }
            cursor += bytes.count
            return UnsafeRawPointer(start)
        }

        values.removeAll(keepingCapacity: true)
        func append(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
            var value = rd_kafka_vu_t()
            value.vtype = type
            set(&value)
            values.append(value)
        }
        append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = place(record.topic) }
        if let partition = record.partition { append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
        append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
        if let key = record.key {
            append(RD_KAFKA_VTYPE_KEY) {
                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: place(key))
                $0.u.mem.size = key.count
            }
        }
        append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = opaque }
        if let timestamp = record.timestamp { append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp } }
        for header in record.headers {
            append(RD_KAFKA_VTYPE_HEADER) {
                $0.u.header.name = place(header.key)
                if let bytes = header.value {
                    $0.u.header.val = place(bytes)
                    $0.u.header.size = bytes.count
                } else {
                    // NULL value: librdkafka adds a null header and ignores the size.
                    $0.u.header.val = nil
                    $0.u.header.size = 0
                }
            }
        }

        // A zeroed value entry has a NULL pointer: a null value, as opposed to an empty one.
        let payloadIndex = values.count
        append(RD_KAFKA_VTYPE_VALUE) { _ in }
        guard let payload = record.value else {
            return values.withUnsafeBufferPointer { rd_kafka_produceva(rk, $0.baseAddress, $0.count) }
        }
        // The payload is lent, not copied into the arena: F_COPY copies it once, inside produceva.
        return payload.withUnsafeBytes { payload in
            values[payloadIndex].u.mem.ptr = UnsafeMutableRawPointer(mutating: payload.baseAddress ?? emptyBytes)
            values[payloadIndex].u.mem.size = payload.count
            return values.withUnsafeBufferPointer { rd_kafka_produceva(rk, $0.baseAddress, $0.count) }
        }
    }

    private func reserve(_ bytes: Int) {
        guard bytes > capacity else { return }
        arena.deallocate()
        capacity = max(bytes, capacity * 2)
        arena = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }
}
