import Testing

@testable import TockCore

@Suite("Clock offset estimation")
struct ClockOffsetTests {
    /// A sample of a host whose wall clock reads `wallAhead` µs more than the reference, and whose
    /// monotonic clock is the reference less `monoBehind` µs; the reference reads its time `answeredAfter`
    /// µs after the request left, the reply takes `back` µs.
    static func sample(at reference: Int64, wallAhead: Int64, monoBehind: Int64 = 5_000_000_000, answeredAfter: Int64, back: Int64) -> ClockSample {
        let sentReference = reference - answeredAfter
        let receivedReference = reference + back
        return ClockSample(
            sentWallMicros: sentReference + wallAhead, receivedWallMicros: receivedReference + wallAhead,
            sentMonotonicMicros: sentReference - monoBehind, receivedMonotonicMicros: receivedReference - monoBehind,
            referenceMicros: reference)
    }

    @Test("offset = reference − (sent + round trip / 2), from the sample with the smallest round trip")
    func smallestRoundTripWins() throws {
        let samples = [
            Self.sample(at: 1_000_000_000, wallAhead: 2_000_000, answeredAfter: 5_000, back: 300),  // queued behind others
            Self.sample(at: 1_000_100_000, wallAhead: 2_000_000, answeredAfter: 150, back: 150),
            Self.sample(at: 1_000_200_000, wallAhead: 2_000_000, answeredAfter: 80, back: 900),
        ]
        let estimate = try #require(ClockOffset.estimate(samples))
        // The second: 300 µs round trip, answered exactly half-way.
        #expect(estimate.offsetMicros == -2_000_000)
        #expect(estimate.uncertaintyMicros == 150)
        // Reference − monotonic is 5e9 µs; the bounds hold it.
        #expect(estimate.monotonicBase == (5_000_000_000 - 150)...(5_000_000_000 + 150))
    }

    @Test("an asymmetric round trip errs by at most half of it, and the lower bound never runs ahead of the reference")
    func asymmetricRoundTrip() throws {
        // Answered at once, the reply slow: the midpoint guess is off by 400 µs.
        let estimate = try #require(ClockOffset.estimate([Self.sample(at: 7_000_000, wallAhead: -2_000_000, answeredAfter: 0, back: 800)]))
        #expect(abs(estimate.offsetMicros - 2_000_000) <= estimate.uncertaintyMicros)
        #expect(estimate.offsetMicros == 2_000_000 - 400)
        #expect(estimate.monotonicBase.lowerBound <= 5_000_000_000 && 5_000_000_000 <= estimate.monotonicBase.upperBound)
    }

    @Test("no usable sample: no estimate (none, or a round trip a monotonic clock cannot produce)")
    func noEstimate() {
        #expect(ClockOffset.estimate([]) == nil)
        var backwards = Self.sample(at: 1_000_000, wallAhead: 0, answeredAfter: 10, back: 10)
        backwards.receivedMonotonicMicros = backwards.sentMonotonicMicros - 1
        #expect(ClockOffset.estimate([backwards]) == nil)
    }

    @Test("the round trip is the monotonic clock's: a wall clock stepped during the sample does not distort it")
    func wallStepDuringSample() throws {
        var stepped = Self.sample(at: 9_000_000, wallAhead: 0, answeredAfter: 100, back: 100)
        stepped.receivedWallMicros += 3_000_000
        #expect(stepped.roundTripMicros == 200)
        let estimate = try #require(ClockOffset.estimate([stepped]))
        #expect(estimate.offsetMicros == 0 && estimate.uncertaintyMicros == 100)
    }
}

@Suite("ReferenceClock")
struct ReferenceClockTests {
    @Test("reads the wall clock until measured, then the monotonic clock plus the base it is given")
    func rebase() {
        let clock = ReferenceClock()
        #expect(abs(clock.nowMicros() - SystemWallClock().nowMicros()) < 50_000)
        clock.rebase(SystemWallClock().nowMicros() - MonotonicClock.nowMicros() - 2_000_000)
        let offset = clock.nowMicros() - SystemWallClock().nowMicros()
        #expect(abs(offset + 2_000_000) < 50_000, "\(offset)")
        #expect(abs(clock.wallOffsetMicros + 2_000_000) < 50_000)
        #expect(clock.nowMillis() == clock.nowMicros() / 1_000 || clock.nowMillis() + 1 == clock.nowMicros() / 1_000)
    }
}
