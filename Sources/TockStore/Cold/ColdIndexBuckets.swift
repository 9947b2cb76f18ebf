/// Which hash of a shard's cold index holds a fingerprint (docs/tiered-storage.md): linear
/// hashing, so that the buckets grow and shrink one at a time with the shard's count and every
/// hash stays small enough for Redis's packed encoding (listpack: at most 128 entries by default).
///
/// With `2^level + split` buckets, a fingerprint's bucket is its low `level` bits, or `level + 1`
/// bits below the split pointer. A bucket not yet split at this level holds up to twice the
/// average, so the average is kept under `splitAbove` (40): an unsplit bucket then expects at most
/// 80 entries, and more than 128 about once in ten million buckets.
public struct ColdIndexBuckets: Sendable, Hashable {
    public private(set) var level = 0
    public private(set) var split = 0
    /// The average entries per bucket above which a store splits one bucket, and below which a
    /// removal merges one.
    public let splitAbove: Int
    public let mergeBelow: Int

    public init(level: Int = 0, split: Int = 0, splitAbove: Int = 40, mergeBelow: Int = 10) {
        self.level = level
        self.split = split
        self.splitAbove = splitAbove
        self.mergeBelow = mergeBelow
    }

    public var count: Int { (1 << level) + split }

    public func bucket(of fingerprint: UInt64) -> Int {
        let low = Int(fingerprint & UInt64((1 << level) - 1))
        return low < split ? Int(fingerprint & UInt64((1 << (level + 1)) - 1)) : low
    }

    /// One bucket's entries move to another: on a split, those whose bucket is now `to`; on a
    /// merge, all of `from`.
    public enum Change: Sendable, Hashable {
        case split(from: Int, to: Int)
        case merge(from: Int, into: Int)
    }

    /// The one change a shard holding `entries` needs, if any.
    public func change(forEntries entries: Int) -> Change? {
        if entries > splitAbove * count { return .split(from: split, to: split + (1 << level)) }
        if count > 1 && entries < mergeBelow * count {
            let (level, split) = self.split == 0 ? (self.level - 1, 1 << (self.level - 1)) : (self.level, self.split)
            return .merge(from: split - 1 + (1 << level), into: split - 1)
        }
        return nil
    }

    /// The state after `change` (as `change(forEntries:)` returned it).
    public mutating func apply(_ change: Change) {
        switch change {
        case .split:
            split += 1
            if split == 1 << level { (level, split) = (level + 1, 0) }
        case .merge:
            if split == 0 { (level, split) = (level - 1, 1 << (level - 1)) }
            split -= 1
        }
    }
}
