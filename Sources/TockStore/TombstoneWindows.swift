import TockCore

/// Tombstones are grouped in sets per shard, window and bucket (`Tombstone`). A window lasts the
/// retention, so an id that ended within the retention is in the set of the current window or of
/// the one before: a check costs two lookups. A set expires a retention after its window ends, so
/// an id is remembered for at least the retention and at most twice as long.
public struct TombstoneWindows: Sendable, Hashable {
    public let retentionMillis: Int64

    public init(retentionMillis: Int64) { self.retentionMillis = max(1_000, retentionMillis) }

    public func window(atMillis now: Int64) -> Int64 { now / retentionMillis }

    /// When the set of `window` may go.
    public func expiry(of window: Int64) -> Int64 { (window + 1) * retentionMillis + retentionMillis }

    /// The sets a check at `now` reads: the previous window's, then the current one's.
    public func checked(atMillis now: Int64) -> (previous: Int64, current: Int64) {
        let current = window(atMillis: now)
        return (current - 1, current)
    }
}
