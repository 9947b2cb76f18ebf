/// The binary form of a stored message (Redis keeps it opaque; only Swift reads it): version,
/// original due time, store time (version 2), flags, topic, key, headers, value. Little-endian,
/// length-prefixed.
///
/// Flags: 1 the key is present, 2 the id was given, 4 the value is null (its field is then
/// empty). Blobs written before flag 4 existed read as before: a non-null value.
public enum MessageCodec {
    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    static let version: UInt8 = 2

    enum Flag {
        static let hasKey: UInt8 = 1
        static let idWasGiven: UInt8 = 2
        static let nullValue: UInt8 = 4
    }

    public static func encode(_ message: ScheduledMessage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + message.topic.utf8.count + (message.key?.count ?? 0) + (message.value?.count ?? 0)
                            + message.headers.reduce(0) { $0 + 8 + $1.key.utf8.count + ($1.value?.count ?? 0) })
        out.append(version)
        append(UInt64(bitPattern: message.dueMillis), to: &out)
        append(UInt64(bitPattern: message.storedMillis), to: &out)
        out.append((message.key != nil ? Flag.hasKey : 0) | (message.idWasGiven ? Flag.idWasGiven : 0)
                   | (message.value == nil ? Flag.nullValue : 0))
        appendBytes(Array(message.topic.utf8), to: &out)
        appendBytes(message.key ?? [], to: &out)
        append(UInt32(message.headers.count), to: &out)
        for header in message.headers {
            appendBytes(Array(header.key.utf8), to: &out)
            if let value = header.value {
                out.append(1)
                appendBytes(value, to: &out)
            } else {
                out.append(0)
            }
        }
        appendBytes(message.value ?? [], to: &out)
        return out
    }

    public static func decode(_ bytes: [UInt8], id: String) throws(DecodingError) -> ScheduledMessage {
        var reader = Reader(bytes: bytes)
        let format = try reader.byte()
        guard format == 1 || format == version else { throw DecodingError(description: "unknown stored message version") }
        let due = Int64(bitPattern: try reader.uint64())
        let stored = format >= 2 ? Int64(bitPattern: try reader.uint64()) : 0
        let flags = try reader.byte()
        let topic = String(decoding: try reader.field(), as: UTF8.self)
        let key = try reader.field()
        let headerCount = Int(try reader.uint32())
        guard headerCount <= bytes.count else { throw DecodingError(description: "stored message is corrupt") }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(headerCount)
        for _ in 0..<headerCount {
            let name = String(decoding: try reader.field(), as: UTF8.self)
            let hasValue = try reader.byte() == 1
            headers.append(RecordHeader(key: name, value: hasValue ? try reader.field() : nil))
        }
        let value = try reader.field()
        guard reader.isAtEnd else { throw DecodingError(description: "stored message has trailing bytes") }
        var message = ScheduledMessage(
            id: id, idWasGiven: flags & Flag.idWasGiven != 0, dueMillis: due, topic: topic,
            key: flags & Flag.hasKey != 0 ? key : nil, value: flags & Flag.nullValue != 0 ? nil : value,
            headers: headers
        )
        message.storedMillis = stored
        return message
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendBytes(_ bytes: [UInt8], to out: inout [UInt8]) {
        append(UInt32(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        var isAtEnd: Bool { position == bytes.count }

        mutating func byte() throws(DecodingError) -> UInt8 {
            guard position < bytes.count else { throw DecodingError(description: "stored message is truncated") }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(DecodingError) -> T {
            let size = MemoryLayout<T>.size
            guard position + size <= bytes.count else { throw DecodingError(description: "stored message is truncated") }
            var value: T = 0
            for index in 0..<size { value |= T(bytes[position + index]) << (8 * index) }
            position += size
            return value
        }

        mutating func uint32() throws(DecodingError) -> UInt32 { try integer(UInt32.self) }
        mutating func uint64() throws(DecodingError) -> UInt64 { try integer(UInt64.self) }

        mutating func field() throws(DecodingError) -> [UInt8] {
            let count = Int(try uint32())
            guard position + count <= bytes.count else { throw DecodingError(description: "stored message is truncated") }
            defer { position += count }
            return Array(bytes[position..<(position + count)])
        }
    }
}
