import Testing

@testable import TockCore

@Suite("ClockGuard: what a process does about its clock")
struct ClockGuardTests {
    /// An estimate of a wall clock `offsetMillis` off the reference, with a round trip of `roundTripMicros`,
    /// reference − monotonic being `baseMicros` (the lower bound sits a round trip below it).
    static func estimate(offsetMillis: Int64, roundTripMicros: Int64 = 200, baseMicros: Int64 = 1_000_000_000) -> ClockOffset {
        ClockOffset(
            offsetMicros: offsetMillis * 1_000, uncertaintyMicros: roundTripMicros / 2,
            monotonicBase: (baseMicros - roundTripMicros / 2)...(baseMicros + roundTripMicros / 2))
    }

    static func configuration(_ onSkew: TockConfiguration.Clock.OnSkew = .correct, maxSkew: Int64 = 100) -> TockConfiguration.Clock {
        var clock = TockConfiguration.Clock()
        clock.maxSkewMillis = maxSkew
        clock.onSkew = onSkew
        return clock
    }

    static func changes(_ actions: [ClockGuard.Action]) -> [ClockStatus.State] {
        actions.compactMap { if case .changed(let status) = $0 { status.state } else { nil } }
    }

    @Test("unmeasured at first: nothing fires until a measurement comes")
    func startsUnmeasured() {
        var decision = ClockGuard(Self.configuration())
        #expect(decision.status.state == .unmeasured && !decision.status.canFire)
        let actions = decision.measured(nil, failure: "connection refused", nowMillis: 0)
        #expect(actions.isEmpty, "still unmeasured: no change")
        #expect(decision.status.detail.contains("connection refused"))
        #expect(decision.baseMicros == nil)
    }

    @Test("within maxSkew: ok, on the lower bound of the measured base")
    func withinSkew() {
        var decision = ClockGuard(Self.configuration())
        let actions = decision.measured(Self.estimate(offsetMillis: 40), nowMillis: 0)
        #expect(actions.first == .rebase(baseMicros: 1_000_000_000 - 100, movedMicros: 0))
        #expect(Self.changes(actions) == [.ok])
        #expect(decision.status.canFire && decision.status.offsetMillis == 40 && decision.status.roundTripMillis == 0.2)
        #expect(decision.status.detail.contains("+40"), "\(decision.status.detail)")
    }

    @Test("beyond maxSkew, correct: it fires, on the reference, and says it is corrected")
    func beyondSkewCorrects() {
        var decision = ClockGuard(Self.configuration(.correct))
        let actions = decision.measured(Self.estimate(offsetMillis: -2_000), nowMillis: 0)
        #expect(Self.changes(actions) == [.corrected])
        #expect(decision.status.canFire)
        #expect(decision.status.detail.contains("-2000 ms") && decision.status.detail.contains("clock.maxSkew"), "\(decision.status.detail)")
        #expect(decision.baseMicros == 999_999_900)
    }

    @Test("beyond maxSkew, hold: it fires nothing until the offset is back within maxSkew")
    func beyondSkewHolds() {
        var decision = ClockGuard(Self.configuration(.hold))
        #expect(Self.changes(decision.measured(Self.estimate(offsetMillis: 2_000), nowMillis: 0)) == [.held])
        #expect(!decision.status.canFire && decision.status.detail.contains("firing nothing"))
        #expect(Self.changes(decision.measured(Self.estimate(offsetMillis: 2_000), nowMillis: 2_000)).isEmpty, "no change, nothing said again")
        // The host's clock was fixed (stepped back): the monotonic base did not move.
        #expect(Self.changes(decision.measured(Self.estimate(offsetMillis: 3), nowMillis: 4_000)) == [.ok])
        #expect(decision.status.canFire)
    }

    @Test("exactly maxSkew is within it")
    func boundary() {
        var decision = ClockGuard(Self.configuration(.hold, maxSkew: 100))
        _ = decision.measured(Self.estimate(offsetMillis: -100), nowMillis: 0)
        #expect(decision.status.state == .ok)
        _ = decision.measured(Self.estimate(offsetMillis: 101), nowMillis: 1)
        #expect(decision.status.state == .held)
    }

    @Test("the base stays while measurements agree with it (no jitter), and follows when they do not")
    func baseFollowsOnlyWhenOutside() {
        var decision = ClockGuard(Self.configuration())
        _ = decision.measured(Self.estimate(offsetMillis: 0, roundTripMicros: 200), nowMillis: 0)
        #expect(decision.baseMicros == 999_999_900)
        // A slower sample whose bounds still hold the base: kept.
        #expect(decision.measured(Self.estimate(offsetMillis: 0, roundTripMicros: 2_000), nowMillis: 2_000).isEmpty)
        #expect(decision.baseMicros == 999_999_900)
        // The monotonic clock drifted 500 µs behind: the base moves up to the new lower bound.
        let drift = decision.measured(Self.estimate(offsetMillis: 0, roundTripMicros: 200, baseMicros: 1_000_000_500), nowMillis: 4_000)
        #expect(drift == [.rebase(baseMicros: 1_000_000_400, movedMicros: 500)])
        // The reference moved back 3 s (a failover to a server with another clock): followed, at once.
        let jump = decision.measured(Self.estimate(offsetMillis: -3_000, roundTripMicros: 200, baseMicros: 997_000_500), nowMillis: 6_000)
        #expect(jump.first == .rebase(baseMicros: 997_000_400, movedMicros: -3_000_000))
        #expect(Self.changes(jump) == [.corrected])
    }

    @Test("a round trip longer than maxSkew still measures: its lower bound never puts the clock ahead, and Redis answering slowly stops no worker")
    func slowRoundTrip() {
        var decision = ClockGuard(Self.configuration(maxSkew: 100))
        let first = decision.measured(Self.estimate(offsetMillis: 0, roundTripMicros: 150_000), nowMillis: 0)
        // The base is the lower bound: at most the round trip behind the reference, never ahead.
        #expect(first.first == .rebase(baseMicros: 1_000_000_000 - 75_000, movedMicros: 0))
        #expect(decision.status.canFire, "\(decision.status)")
        #expect(decision.status.detail.contains("150 ms at best"), "\(decision.status.detail)")
        // A precise one decides the offset; slow ones afterwards keep the clock measured, past
        // staleAfter too, and do not change what the precise one said.
        _ = decision.measured(Self.estimate(offsetMillis: 300, roundTripMicros: 100_000, baseMicros: 1_000_300_000), nowMillis: 1)
        #expect(decision.status.state == .corrected, "a round trip of exactly maxSkew is precise")
        for second in 1...90 {
            _ = decision.measured(
                Self.estimate(offsetMillis: 0, roundTripMicros: 2_000_000, baseMicros: 1_000_300_000), nowMillis: Int64(second) * 1_000)
        }
        #expect(decision.status.state == .corrected && decision.status.offsetMillis == 300, "\(decision.status)")
        #expect(decision.status.detail.contains("2000 ms at best"), "\(decision.status.detail)")
        _ = decision.measured(Self.estimate(offsetMillis: 300, roundTripMicros: 200, baseMicros: 1_000_300_000), nowMillis: 91_000)
        #expect(!decision.status.detail.contains("at best"), "\(decision.status.detail)")
    }

    @Test("failed measurements: the last one vouches for staleAfter, then the worker stops firing, and resumes with the next good one")
    func stale() {
        let configuration = Self.configuration()
        var decision = ClockGuard(configuration)
        #expect(decision.staleAfterMillis == 60_000)
        _ = decision.measured(Self.estimate(offsetMillis: 5), nowMillis: 0)
        #expect(decision.measured(nil, failure: "timeout", nowMillis: 60_000).isEmpty)
        #expect(decision.status.state == .ok)
        #expect(Self.changes(decision.measured(nil, failure: "timeout", nowMillis: 60_001)) == [.unmeasured])
        #expect(decision.status.detail.contains("for 60 s") && decision.status.detail.contains("timeout"), "\(decision.status.detail)")
        #expect(decision.baseMicros == 999_999_900, "the clock keeps running meanwhile")
        #expect(Self.changes(decision.measured(Self.estimate(offsetMillis: 5), nowMillis: 62_000)) == [.ok])
    }

    @Test("a long check interval stretches the staleness to ten checks")
    func staleAfterFollowsInterval() {
        var clock = Self.configuration()
        clock.checkIntervalMillis = 30_000
        #expect(ClockGuard.staleAfterMillis(clock) == 300_000)
    }

    @Test("milliseconds in the detail: two decimals below 10 ms, none above")
    func formatting() {
        #expect(ClockGuard.millis(0) == "0.00")
        #expect(ClockGuard.millis(150) == "0.15")
        #expect(ClockGuard.millis(9_994) == "9.99")
        #expect(ClockGuard.millis(9_995) == "10")
        #expect(ClockGuard.millis(2_000_400) == "2000")
        #expect(ClockGuard.signed(-2_000_000) == "-2000" && ClockGuard.signed(40_000) == "+40")
    }
}
