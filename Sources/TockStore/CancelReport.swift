/// What `tock cancel` can tell from the message's state just before and just after it wrote the
/// cancel request. A worker applies the cancel later, when it reads the request; what is certain
/// at once is only that a message already locked for delivery (`delivery.lockAhead` before its
/// due time) is published anyway: the cancel then only counts as `delivering`.
public struct CancelReport: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Being delivered: it is published; the cancel changes nothing.
        case tooLate
        /// Had ended (published, or cancelled before) before the cancel was written.
        case alreadyEnded
        /// Ended after the cancel was written, too early for any delivery to have begun.
        case cancelled
        /// Ended after the cancel was written, so close to its fire time that a delivery may have ended it.
        case endedEitherWay
        /// Still pending or claimed: removed when a worker reads the cancel.
        case queued
        /// No such message: the cancel is remembered in case its schedule comes later.
        case unknownID
    }

    /// One look at the message: its state and, while pending or claimed, its next fire time.
    public struct Observation: Sendable, Equatable {
        public var state: MessageStatus.State
        public var fireMillis: Int64?

        public init(state: MessageStatus.State, fireMillis: Int64? = nil) {
            self.state = state
            self.fireMillis = fireMillis
        }

        public init(_ status: MessageStatus) {
            self.init(state: status.state, fireMillis: status.state == .delivering ? nil : status.scoreMillis)
        }
    }

    public var outcome: Outcome
    /// One sentence for the operator.
    public var text: String

    /// True when the cancel cannot have removed the message.
    public var isTooLate: Bool { outcome == .tooLate || outcome == .alreadyEnded }

    /// - Parameters:
    ///   - before: the state just before the cancel request was written.
    ///   - after: the state once the broker had acknowledged it, looked at `afterMillis`.
    public init(id: String, before: Observation, after: Observation, afterMillis: Int64, lockAheadMillis: Int64) {
        let window = "delivery.lockAhead = \(lockAheadMillis) ms"
        switch (before.state, after.state) {
        case (_, .delivering), (.delivering, .ended), (.delivering, .unknown):
            outcome = .tooLate
            text =
                "too late: \(id) was already being delivered (a delivery begins \(window) before the due time); "
                + "it is published regardless, and the cancel only counts as tock_requests_total{result=\"delivering\"}"
        case (.ended, .ended):
            outcome = .alreadyEnded
            text = "\(id) had already ended (published, or cancelled before); the cancel changes nothing"
        case (.paused, .ended):
            outcome = .cancelled
            text = "cancelled: \(id) (a paused series) is no longer pending"
        case (.pending, .ended), (.claimed, .ended), (.cold, .ended):
            // A delivery begins at the earliest `lockAhead` before the fire time.
            if let fire = before.fireMillis, afterMillis < fire - lockAheadMillis {
                outcome = .cancelled
                text = "cancelled: \(id) is no longer pending"
            } else {
                outcome = .endedEitherWay
                text = "\(id) has ended: this cancel removed it, or it was published just before (it was due within \(window))"
            }
        case (_, .pending), (_, .claimed), (_, .cold), (_, .paused):
            outcome = .queued
            var sentence = "\(id) is still \(after.state.rawValue); a worker removes it when it reads the cancel"
            if let fire = after.fireMillis {
                let dueIn = fire - afterMillis
                sentence += " (due in \(dueIn) ms)"
                if dueIn <= lockAheadMillis {
                    sentence += ", unless its delivery begins first (\(window) before the due time): then it is published; see tock status \(id)"
                }
            }
            text = sentence
        case (_, .unknown), (.unknown, .ended):
            // A cancel of an unknown id leaves a tombstone, so the id then reads as ended.
            outcome = .unknownID
            text =
                "no message \(id) is pending: the cancel is remembered for dedup.retention, so a schedule with this id read within that time is cancelled"
        }
    }
}
