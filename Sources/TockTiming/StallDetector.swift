/// The watchdog's decision: a tick `threshold` or more after the previous one is a stall.
public struct StallDetector: Sendable {
    public let threshold: Duration
    private var last: ContinuousClock.Instant

    public init(threshold: Duration, last: ContinuousClock.Instant) {
        self.threshold = threshold
        self.last = last
    }

    /// The gap since the previous tick when it was a stall, else nil.
    public mutating func tick(at now: ContinuousClock.Instant) -> Duration? {
        defer { last = now }
        let gap = now - last
        return gap >= threshold ? gap : nil
    }
}
