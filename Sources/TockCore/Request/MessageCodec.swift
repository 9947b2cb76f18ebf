/// The binary form of a stored message (Redis keeps it opaque; only Swift reads it): version,
/// original due time, store time, flags, topic, key, headers, value. Version 3 writes times
/// (zigzag) and lengths as LEB128 varints, ~20 bytes less per message than the fixed-width
/// versions 1 (no store time) and 2, which it still reads.
///
/// Flags: 1 the key is present, 2 the id was given, 4 the value is null (its field is then
/// empty), 8 a series definition follows the value. Blobs written before flag 4 existed read as
/// before: a non-null value.
public enum MessageCodec {
    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    static let version: UInt8 = 3

    enum Flag {
        static let hasKey: UInt8 = 1
        static let idWasGiven: UInt8 = 2
        static let nullValue: UInt8 = 4
        static let series: UInt8 = 8
    }

    private enum SeriesFlag {
        static let cron: UInt8 = 1
        static let until: UInt8 = 2
        static let count: UInt8 = 4
    }

    public static func encode(_ message: ScheduledMessage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(
            24 + message.topic.utf8.count + (message.key?.count ?? 0) + (message.value?.count ?? 0)
                + message.headers.reduce(0) { $0 + 6 + $1.key.utf8.count + ($1.value?.count ?? 0) })
        out.append(version)
        appendVarint(zigzag(message.dueMillis), to: &out)
        appendVarint(zigzag(message.storedMillis), to: &out)
        out.append(
            (message.key != nil ? Flag.hasKey : 0) | (message.idWasGiven ? Flag.idWasGiven : 0)
                | (message.value == nil ? Flag.nullValue : 0) | (message.series != nil ? Flag.series : 0))
        appendField(message.topic.utf8, to: &out)
        appendField(message.key ?? [], to: &out)
        appendVarint(UInt64(message.headers.count), to: &out)
        for header in message.headers {
            appendField(header.key.utf8, to: &out)
            if let value = header.value {
                out.append(1)
                appendField(value, to: &out)
            } else {
                out.append(0)
            }
        }
        appendField(message.value ?? [], to: &out)
        if let series = message.series { appendSeries(series, to: &out) }
        return out
    }

    private static func appendSeries(_ series: SeriesDefinition, to out: inout [UInt8]) {
        out.append(
            (series.cron != nil ? SeriesFlag.cron : 0) | (series.untilMillis != nil ? SeriesFlag.until : 0)
                | (series.count != nil ? SeriesFlag.count : 0))
        if let cron = series.cron {
            appendField(cron.utf8, to: &out)
            appendField(series.timeZone.utf8, to: &out)
        } else {
            appendVarint(zigzag(series.everyMillis ?? 0), to: &out)
        }
        appendVarint(zigzag(series.startMillis), to: &out)
        if let until = series.untilMillis { appendVarint(zigzag(until), to: &out) }
        if let count = series.count { appendVarint(UInt64(count), to: &out) }
        out.append(UInt8(Recurrence.Catchup.allCases.firstIndex(of: series.catchup)!))
    }

    private static func readSeries(_ reader: inout Reader) throws(DecodingError) -> SeriesDefinition {
        let flags = try reader.byte()
        var series = SeriesDefinition(cron: nil, everyMillis: nil, startMillis: 0)
        if flags & SeriesFlag.cron != 0 {
            series.cron = String(decoding: try reader.field(), as: UTF8.self)
            series.timeZone = String(decoding: try reader.field(), as: UTF8.self)
        } else {
            series.everyMillis = try reader.time()
        }
        series.startMillis = try reader.time()
        if flags & SeriesFlag.until != 0 { series.untilMillis = try reader.time() }
        if flags & SeriesFlag.count != 0 { series.count = Int(clamping: try reader.varint()) }
        let catchup = Int(try reader.byte())
        guard catchup < Recurrence.Catchup.allCases.count else { throw DecodingError(description: "stored series has an unknown catch-up") }
        series.catchup = Recurrence.Catchup.allCases[catchup]
        return series
    }

    /// Whether the message's id was given (`tock-id`), read from its flags alone.
    public static func idWasGiven(in bytes: [UInt8]) throws(DecodingError) -> Bool {
        var reader = Reader(bytes: bytes)
        let format = try reader.byte()
        guard (1...version).contains(format) else { throw DecodingError(description: "unknown stored message version") }
        reader.varints = format >= 3
        _ = try reader.time()
        if format >= 2 { _ = try reader.time() }
        return try reader.byte() & Flag.idWasGiven != 0
    }

    public static func decode(_ bytes: [UInt8], id: String) throws(DecodingError) -> ScheduledMessage {
        var reader = Reader(bytes: bytes)
        let format = try reader.byte()
        guard (1...version).contains(format) else { throw DecodingError(description: "unknown stored message version") }
        reader.varints = format >= 3
        let due = try reader.time()
        let stored = format >= 2 ? try reader.time() : 0
        let flags = try reader.byte()
        let topic = String(decoding: try reader.field(), as: UTF8.self)
        let key = try reader.field()
        let headerCount = try reader.length()
        guard headerCount <= bytes.count else { throw DecodingError(description: "stored message is corrupt") }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(headerCount)
        for _ in 0..<headerCount {
            let name = String(decoding: try reader.field(), as: UTF8.self)
            let hasValue = try reader.byte() == 1
            headers.append(RecordHeader(key: name, value: hasValue ? try reader.field() : nil))
        }
        let value = try reader.field()
        let series = flags & Flag.series != 0 ? try readSeries(&reader) : nil
        guard reader.isAtEnd else { throw DecodingError(description: "stored message has trailing bytes") }
        var message = ScheduledMessage(
            id: id, idWasGiven: flags & Flag.idWasGiven != 0, dueMillis: due, topic: topic,
            key: flags & Flag.hasKey != 0 ? key : nil, value: flags & Flag.nullValue != 0 ? nil : value,
            headers: headers, series: series
        )
        message.storedMillis = stored
        return message
    }

    private static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    private static func appendField(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0
        /// Version 3: varint times and lengths; before it, fixed widths.
        var varints = false

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

        mutating func varint() throws(DecodingError) -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                let byte = try byte()
                value |= UInt64(byte & 0x7f) << UInt64(shift)
                if byte < 0x80 { return value }
            }
            throw DecodingError(description: "stored message has an overlong number")
        }

        mutating func time() throws(DecodingError) -> Int64 {
            guard varints else { return Int64(bitPattern: try integer(UInt64.self)) }
            let raw = try varint()
            return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
        }

        mutating func length() throws(DecodingError) -> Int {
            let value = varints ? try varint() : UInt64(try integer(UInt32.self))
            guard value <= UInt64(bytes.count) else { throw DecodingError(description: "stored message is truncated") }
            return Int(value)
        }

        mutating func field() throws(DecodingError) -> [UInt8] {
            let count = try length()
            guard position + count <= bytes.count else { throw DecodingError(description: "stored message is truncated") }
            defer { position += count }
            return Array(bytes[position..<(position + count)])
        }
    }
}
