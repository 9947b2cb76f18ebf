/// How a process stands with the cluster's reference clock (SPEC guarantee 5): what `/readyz`,
/// the log, the heartbeat's summary and the console say.
public struct ClockStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// Within `clock.maxSkew` of the reference.
        case ok
        /// Beyond `clock.maxSkew`; the process runs on the reference (`clock.onSkew: correct`).
        case corrected
        /// Beyond `clock.maxSkew`; the worker fires nothing (`clock.onSkew: hold`).
        case held
        /// Never measured, or no answer for too long: the worker fires nothing.
        case unmeasured
    }

    public var state: State
    /// Reference − this host's wall clock, from the last good measurement.
    public var offsetMillis: Double?
    /// The round trip of that measurement's best sample: the offset is known to half of it.
    public var roundTripMillis: Double?
    /// One sentence, for `/readyz`, the log and the console.
    public var detail: String

    public init(state: State, offsetMillis: Double? = nil, roundTripMillis: Double? = nil, detail: String) {
        self.state = state
        self.offsetMillis = offsetMillis
        self.roundTripMillis = roundTripMillis
        self.detail = detail
    }

    /// Whether a worker may fire on its clock now.
    public var canFire: Bool { state == .ok || state == .corrected }
}

/// The decision about this process's clock (SPEC guarantee 5), fed a measurement of the reference
/// every `clock.checkInterval`. Pure: the caller passes the monotonic time and carries out the
/// actions.
///
/// The process always runs on the reference: `ReferenceClock` is the monotonic clock plus a base
/// this type chooses. A new measurement keeps the base while it still falls within the
/// measurement's bounds (so the clock does not jitter by a round trip at every check), and moves
/// it to the lower bound otherwise (a clock that drifted, or a reference that moved: a Redis
/// failover to a host whose clock differs).
///
/// A measurement through a slow round trip (Redis busy) counts too: its lower bound never puts
/// the clock ahead of the reference, so it can make firing late by up to the round trip, never
/// early. It keeps the clock measured; only a precise one (within `clock.maxSkew`) says whether
/// the offset is within `clock.maxSkew`. Refusing slow ones would stop every worker at once
/// whenever Redis answers slowly for a minute.
public struct ClockGuard: Sendable {
    public enum Action: Sendable, Equatable {
        /// Run the reference clock on this base (reference − monotonic, µs) from now on;
        /// `movedMicros` is how far that moves it (0 for the first).
        case rebase(baseMicros: Int64, movedMicros: Int64)
        /// The status changed: say so (log, `/readyz`, metrics) and, for a worker, start or stop firing.
        case changed(ClockStatus)
    }

    public let maxSkewMillis: Int64
    public let onSkew: TockConfiguration.Clock.OnSkew
    /// A measurement older than this no longer vouches for the clock.
    public let staleAfterMillis: Int64

    public private(set) var baseMicros: Int64?
    private var last: ClockOffset?
    private var measuredAtMillis: Int64?
    private var lastFailure = "not measured yet"
    /// The best round trip of the last check when it was too slow to tell the offset within
    /// `clock.maxSkew` (µs); nil when it was precise.
    private var slowest: Int64?
    public private(set) var status = ClockStatus(state: .unmeasured, detail: "clock: not measured against the reference (Redis TIME) yet")

    public init(_ clock: TockConfiguration.Clock) {
        maxSkewMillis = clock.maxSkewMillis
        onSkew = clock.onSkew
        staleAfterMillis = Self.staleAfterMillis(clock)
    }

    /// A minute, or ten checks if that is longer: a monotonic clock drifts from the reference by
    /// well under 100 ms in a minute (500 ppm at worst: NTP's largest slew).
    public static func staleAfterMillis(_ clock: TockConfiguration.Clock) -> Int64 { max(60_000, 10 * clock.checkIntervalMillis) }

    /// One check's outcome: an estimate, or why there is none. `nowMillis` is the monotonic clock.
    public mutating func measured(_ estimate: ClockOffset?, failure: String? = nil, nowMillis: Int64) -> [Action] {
        var actions: [Action] = []
        if let estimate {
            let bounds = estimate.monotonicBase
            if let base = baseMicros {
                if !bounds.contains(base) {
                    baseMicros = bounds.lowerBound
                    actions.append(.rebase(baseMicros: bounds.lowerBound, movedMicros: bounds.lowerBound - base))
                }
            } else {
                baseMicros = bounds.lowerBound
                actions.append(.rebase(baseMicros: bounds.lowerBound, movedMicros: 0))
            }
            let precise = estimate.uncertaintyMicros * 2 <= maxSkewMillis * 1_000
            if precise || last == nil { last = estimate }
            measuredAtMillis = nowMillis
            slowest = precise ? nil : estimate.uncertaintyMicros * 2
        } else {
            lastFailure = failure ?? "no answer"
        }
        let next = evaluate(nowMillis: nowMillis)
        if next.state != status.state { actions.append(.changed(next)) }
        status = next
        return actions
    }

    private func evaluate(nowMillis: Int64) -> ClockStatus {
        guard let last, let measuredAtMillis else {
            return ClockStatus(state: .unmeasured, detail: "clock: cannot measure the offset against the reference (Redis TIME): \(lastFailure)")
        }
        let offset = Double(last.offsetMicros) / 1_000
        let roundTrip = Double(2 * last.uncertaintyMicros) / 1_000
        let age = nowMillis - measuredAtMillis
        if age > staleAfterMillis {
            return ClockStatus(
                state: .unmeasured, offsetMillis: offset, roundTripMillis: roundTrip,
                detail: "clock: not measured against the reference (Redis TIME) for \(age / 1_000) s (\(lastFailure))")
        }
        var measured = "offset \(Self.signed(last.offsetMicros)) ms against the reference (Redis TIME, ±\(Self.millis(last.uncertaintyMicros)) ms)"
        if let slowest {
            measured += "; Redis answered TIME in \(Self.millis(slowest)) ms at best at the last check: the clock may run that much behind it"
        }
        if abs(last.offsetMicros) <= maxSkewMillis * 1_000 {
            return ClockStatus(state: .ok, offsetMillis: offset, roundTripMillis: roundTrip, detail: "clock: \(measured)")
        }
        switch onSkew {
        case .correct:
            return ClockStatus(
                state: .corrected, offsetMillis: offset, roundTripMillis: roundTrip,
                detail: "clock: \(measured), beyond clock.maxSkew (\(maxSkewMillis) ms): running on the reference clock")
        case .hold:
            return ClockStatus(
                state: .held, offsetMillis: offset, roundTripMillis: roundTrip,
                detail: "clock: \(measured), beyond clock.maxSkew (\(maxSkewMillis) ms): firing nothing (clock.onSkew: hold)")
        }
    }

    /// Milliseconds from non-negative microseconds: two decimals below 10 ms, none above.
    static func millis(_ micros: Int64) -> String {
        if micros >= 9_995 { return String((micros + 500) / 1_000) }
        let hundredths = (micros + 5) / 10
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func signed(_ micros: Int64) -> String { (micros < 0 ? "-" : "+") + millis(abs(micros)) }
}
