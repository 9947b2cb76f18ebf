import TockCore

/// After a batch's first request the consumer lingers (`kafka.consumerLinger`) for fuller store
/// calls. A request that must not wait ends the linger: a schedule or reschedule due within the
/// linger plus `delivery.lockAhead` (it would otherwise be stored too late to be locked ahead),
/// and every cancel (its message may be about to be locked, and the SPEC counts a cancel as late
/// only when it is read within `delivery.lockAhead` of the due time).
struct IngestLinger: Sendable {
    var lingerMillis: Int64
    var lockAheadMillis: Int64

    func endsWait(_ parsed: Result<ParsedRequest, RequestRejection>, nowMillis: Int64) -> Bool {
        switch parsed {
        case .success(.schedule(let message)), .success(.reschedule(let message)), .success(.requeue(let message)):
            message.dueMillis <= nowMillis + lingerMillis + lockAheadMillis
        case .success(.cancel), .success(.pause), .success(.resume):
            true
        case .failure:
            false
        }
    }
}
