import TockRedis

/// What the cold index keeps of one cold message (docs/tiered-storage.md): under a 12-byte
/// fingerprint of its id, its due time (6 bytes) and its record's version (4 bytes). Two ids of
/// one shard share a fingerprint with probability about n² / 2^97.
public enum ColdIndexEntry {
    public static func fingerprint(of id: String) -> [UInt8] { Array(SHA1.digest(Array(id.utf8)).prefix(12)) }

    public static func value(dueMillis: Int64, version: UInt32) -> [UInt8] {
        let due = UInt64(max(0, min(dueMillis, (1 << 48) - 1)))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        for shift in stride(from: 40, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: due >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: version >> UInt32(shift))) }
        return bytes
    }

    /// The due time and version of a value, or nil when it is not one.
    public static func decode(_ value: [UInt8]) -> (dueMillis: Int64, version: UInt32)? {
        guard value.count == 10 else { return nil }
        let due = value[0..<6].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let version = value[6..<10].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (due, version)
    }
}
