import TockCore

/// The tombstone sets of one window this process already gave their expiry, so that a call asks
/// Redis for it only on the others. One bit per shard and bucket: a store call looks up one per
/// message with a given id.
struct KnownExpiries: Sendable {
    private(set) var window: Int64 = -1
    private let shardCount: Int
    private var bits: [UInt64]

    init(shardCount: Int) {
        self.shardCount = shardCount
        bits = Array(repeating: 0, count: (shardCount * Tombstone.buckets + 63) / 64)
    }

    /// Forgets everything when `window` is not the one the bits are about.
    mutating func enter(window: Int64) {
        guard window != self.window else { return }
        self.window = window
        for index in bits.indices { bits[index] = 0 }
    }

    func contains(_ set: TombstoneSet) -> Bool {
        guard let (word, bit) = position(set) else { return false }
        return bits[word] & bit != 0
    }

    mutating func insert(_ set: TombstoneSet) {
        guard let (word, bit) = position(set) else { return }
        bits[word] |= bit
    }

    private func position(_ set: TombstoneSet) -> (Int, UInt64)? {
        guard (0..<shardCount).contains(set.shard), (0..<Tombstone.buckets).contains(set.bucket) else { return nil }
        let index = set.shard * Tombstone.buckets + set.bucket
        return (index / 64, 1 << UInt64(index % 64))
    }
}

/// One shard's tombstone set of the current window.
struct TombstoneSet: Sendable, Hashable {
    var shard: Int
    var bucket: Int
}
