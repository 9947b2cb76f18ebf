extension InputRecord {
    /// What tells this record from any other written at the same offset of another incarnation of
    /// its partition (SPEC guarantee 6): `<timestamp ms>:<digest>`, the digest a 64-bit FNV-1a of
    /// the key, the value and the headers, each length-prefixed so that no two records encode
    /// alike. A record without a timestamp writes `-` for it.
    ///
    /// Not a cryptographic digest: anyone who can write to the input topic can write the very same
    /// record at the same offset, which no digest tells apart. What it must do is tell a record
    /// from an unrelated one, with collisions at 2^-64 per pair (as the tombstones' fingerprints).
    public var fingerprint: String {
        var hash = FingerprintHash()
        hash.add(optional: key)
        hash.add(optional: value)
        hash.add(count: headers.count)
        for header in headers {
            hash.add(bytes: Array(header.key.utf8))
            hash.add(optional: header.value)
        }
        let digest = String(hash.value, radix: 16)
        let padded = String(repeating: "0", count: 16 - digest.count) + digest
        return "\(timestampMillis.map(String.init) ?? "-"):\(padded)"
    }
}

/// FNV-1a over a stream of length-prefixed fields (`ShardMap.fnv1a`'s constants).
private struct FingerprintHash {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }

    mutating func add(count: Int) {
        var n = UInt64(count)
        for _ in 0..<8 {
            add(byte: UInt8(truncatingIfNeeded: n))
            n >>= 8
        }
    }

    mutating func add(bytes: [UInt8]) {
        add(count: bytes.count)
        for byte in bytes { add(byte: byte) }
    }

    /// A null field hashes apart from an empty one.
    mutating func add(optional bytes: [UInt8]?) {
        guard let bytes else { return add(byte: 0) }
        add(byte: 1)
        add(bytes: bytes)
    }
}
