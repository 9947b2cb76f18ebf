/// One reading of the cluster's reference clock (Redis `TIME`): this process's clocks when the
/// request left and when the reply came, and the reference's time in the reply, all in epoch or
/// monotonic microseconds.
public struct ClockSample: Sendable, Equatable {
    public var sentWallMicros: Int64
    public var receivedWallMicros: Int64
    public var sentMonotonicMicros: Int64
    public var receivedMonotonicMicros: Int64
    public var referenceMicros: Int64

    public init(sentWallMicros: Int64, receivedWallMicros: Int64, sentMonotonicMicros: Int64, receivedMonotonicMicros: Int64, referenceMicros: Int64)
    {
        self.sentWallMicros = sentWallMicros
        self.receivedWallMicros = receivedWallMicros
        self.sentMonotonicMicros = sentMonotonicMicros
        self.receivedMonotonicMicros = receivedMonotonicMicros
        self.referenceMicros = referenceMicros
    }

    /// Measured on the monotonic clock: a wall clock stepped meanwhile does not distort it.
    public var roundTripMicros: Int64 { receivedMonotonicMicros - sentMonotonicMicros }
}

/// This process's clock against the reference, from the sample with the smallest round trip (the
/// one whose reply waited least in queues, so the tightest bound).
///
/// The reference read its time at some instant between sending and receiving, so:
/// - the wall clock's offset is `reference − (sent + roundTrip / 2)`, give or take half the round trip;
/// - on the monotonic clock, the reference reads at least `reference − received` more than it at
///   any later instant, and at most `reference − sent` more. `ReferenceClock` runs on the lower
///   bound: it never reads ahead of the reference (never early), and at most a round trip behind.
public struct ClockOffset: Sendable, Equatable {
    /// Reference − this host's wall clock (what `tock_clock_offset_seconds` reports).
    public var offsetMicros: Int64
    /// Half the round trip: how far the true offset may be from `offsetMicros`.
    public var uncertaintyMicros: Int64
    /// Reference − monotonic clock, lowest and highest possible.
    public var monotonicBase: ClosedRange<Int64>

    public init(offsetMicros: Int64, uncertaintyMicros: Int64, monotonicBase: ClosedRange<Int64>) {
        self.offsetMicros = offsetMicros
        self.uncertaintyMicros = uncertaintyMicros
        self.monotonicBase = monotonicBase
    }

    /// The estimate from the sample with the smallest round trip; nil without a usable sample (a
    /// negative round trip cannot come from a monotonic clock).
    public static func estimate(_ samples: [ClockSample]) -> ClockOffset? {
        guard let best = samples.filter({ $0.roundTripMicros >= 0 }).min(by: { $0.roundTripMicros < $1.roundTripMicros }) else { return nil }
        let roundTrip = best.roundTripMicros
        return ClockOffset(
            offsetMicros: best.referenceMicros - (best.sentWallMicros + roundTrip / 2),
            uncertaintyMicros: (roundTrip + 1) / 2,
            monotonicBase: (best.referenceMicros - best.receivedMonotonicMicros)...(best.referenceMicros - best.sentMonotonicMicros))
    }
}
