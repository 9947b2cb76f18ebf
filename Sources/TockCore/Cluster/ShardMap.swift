/// Maps a `tock-id` to its shard with a hash that is the same in every process and release
/// (FNV-1a, 64 bit), unlike Swift's per-process seeded `Hasher`.
public struct ShardMap: Sendable, Hashable {
    public let shardCount: Int

    public init(shardCount: Int) {
        precondition(shardCount > 0)
        self.shardCount = shardCount
    }

    /// The shard of a message id, or of a series occurrence's key (`OccurrenceKey`): only the id
    /// before the first space counts, and no id has a space.
    @inlinable
    public func shard(of id: String) -> Int {
        Int(Self.fnv1a(bytes: id.utf8.prefix { $0 != 0x20 }) % UInt64(shardCount))
    }

    @inlinable
    public static func fnv1a(_ text: String) -> UInt64 { fnv1a(bytes: text.utf8) }

    @inlinable
    public static func fnv1a(bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// What a tombstone stores for a given `tock-id`: a 64-bit fingerprint, not the id, so Redis
/// keeps it in an intset at 8 bytes, and the set (bucket) it goes to. Two ids share a
/// fingerprint with probability 2^-64 per pair, far below any other failure here.
public struct Tombstone: Sendable, Hashable {
    /// Sets per shard and time window. At 10k ids/s, 16 shards and one-hour windows (the default
    /// retention, `TombstoneWindows`) a set holds ~275 fingerprints, inside Redis's compact intset
    /// encoding (`set-max-intset-entries`, 512 by default): 8 bytes each.
    public static let buckets = 8192

    public var fingerprint: Int64
    public var bucket: Int

    public init(id: String) {
        // SplitMix64's finaliser decorrelates the fingerprint from the shard choice.
        var mixer = SplitMix64(seed: ShardMap.fnv1a(id))
        let z = mixer.next()
        fingerprint = Int64(bitPattern: z)
        bucket = Int((z >> 40) % UInt64(Self.buckets))
    }
}
