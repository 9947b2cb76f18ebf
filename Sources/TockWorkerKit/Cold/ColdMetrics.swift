import Metrics

/// The cold mover's metrics (SPEC "Tiered storage": `tock_cold_moved_total`).
struct ColdMetrics: Sendable {
    let moved = Counter(label: "tock_cold_moved_total")
    /// How far ahead of its due time each move happened (0 for a move after it).
    let moveAhead = Timer(label: "tock_cold_move_ahead_seconds", preferredDisplayUnit: .seconds)
    let movedLate = Counter(label: "tock_cold_moved_late_total")
    let copied = Counter(label: "tock_cold_copied_total")
    /// Records whose index entry was gone or of another version: cancelled, rescheduled, moved
    /// already, or a copy a crash left.
    let stale = Counter(label: "tock_cold_stale_total")
    let unreadable = Counter(label: "tock_cold_unreadable_total")
    let errors = Counter(label: "tock_cold_errors_total")

    func noteMoved(aheadMillis: Int64) {
        moved.increment()
        moveAhead.recordMilliseconds(max(0, aheadMillis))
        if aheadMillis < 0 { movedLate.increment() }
    }
}
