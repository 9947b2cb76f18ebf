/// Finds what a timing wheel lacks. A claimed entry is normally in its owner's wheel until the
/// wheel fires it, `delivery.lockAhead` before it is due, and `begin` then moves it out of the
/// claimed set within a round trip. A claim whose reply never reached the worker (a store, claim
/// or retry call that Redis applied but whose answer was lost to a timeout, or a pipeline whose
/// batch was read again after some of its shards had stored it) leaves an entry that nothing
/// would ever fire. So every claim expires `graceMillis` after its due time: from then on each
/// pass offers it to the owner's wheel again, which takes it unless it already holds it. A second
/// offer of an entry whose lock is being taken is harmless: `begin` locks an entry only while it
/// is still claimed at that due time, so it is published once.
public struct ClaimReconciliation: Sendable, Equatable {
    public let intervalMillis: Int64
    public let graceMillis: Int64
    public private(set) var lastPassMillis: Int64?

    public init(intervalMillis: Int64, graceMillis: Int64) {
        precondition(intervalMillis > 0 && graceMillis >= 0)
        self.intervalMillis = intervalMillis
        self.graceMillis = graceMillis
    }

    /// When a pass is due at `nowMillis`, records it and returns the due-time cutoff: claimed
    /// entries due before it have expired. Nil when the last pass was less than an interval ago.
    public mutating func passDue(nowMillis: Int64) -> Int64? {
        if let last = lastPassMillis, nowMillis - last < intervalMillis { return nil }
        lastPassMillis = nowMillis
        return nowMillis - graceMillis
    }

    /// The expired claims the wheel does not hold: these go back into it, and fire at once.
    public static func missing<Entries: Sequence>(
        _ expired: Entries,
        wheelHolds: (String) -> Bool
    ) -> [(id: String, dueMillis: Int64)] where Entries.Element == (id: String, dueMillis: Int64) {
        expired.filter { !wheelHolds($0.id) }
    }
}
