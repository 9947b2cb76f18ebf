/// A cold message as its record in a cold topic keeps it (docs/tiered-storage.md): key the id,
/// value the stored message (`MessageCodec`), and one header, `tock-cold`, "<due ms> <version>".
///
/// The version tells this record from others of the same id: a request read again gives the same
/// record and version; a reschedule, a new one. Only the record whose version the index holds
/// is moved.
public struct ColdRecord: Sendable, Hashable {
    public static let header = "tock-cold"

    public var id: String
    public var dueMillis: Int64
    public var version: UInt32
    /// `MessageCodec.encode` of the message.
    public var blob: [UInt8]

    public init(id: String, dueMillis: Int64, version: UInt32, blob: [UInt8]) {
        self.id = id
        self.dueMillis = dueMillis
        self.version = version
        self.blob = blob
    }

    /// The version of the record a request makes: a hash of its source ("topic/partition/offset").
    /// Two records of one id share a version with probability 2^-32.
    public static func version(source: String) -> UInt32 {
        var mixer = SplitMix64(seed: ShardMap.fnv1a(source))
        return UInt32(truncatingIfNeeded: mixer.next() >> 32)
    }

    public var headerValue: [UInt8] { Array("\(dueMillis) \(version)".utf8) }

    /// The record read back, or nil when it is not one (no id, no header, a bad header).
    public init?(key: [UInt8]?, value: [UInt8]?, headerValue: [UInt8]?) {
        guard let key, !key.isEmpty, let value, let headerValue else { return nil }
        let parts = String(decoding: headerValue, as: UTF8.self).split(separator: " ")
        guard parts.count == 2, let due = Int64(parts[0]), let version = UInt32(parts[1]) else { return nil }
        self.init(id: String(decoding: key, as: UTF8.self), dueMillis: due, version: version, blob: value)
    }
}
