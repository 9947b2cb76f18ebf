import Testing
import TockTiming

@testable import TockCore

/// The wall clock shifted by a fixed offset: a reference clock that differs from the host's.
struct ShiftedClock: WallClock {
    let offsetMicros: Int64
    func nowMicros() -> Int64 { SystemWallClock().nowMicros() + offsetMicros }
    func nowMillis() -> Int64 { nowMicros() / 1_000 }
}

@Suite("DueGate and TimingWheelDriver on a clock that is not the wall clock")
struct OffsetClockTimingTests {
    @Test(
        "a gate on a clock 2 s ahead of the wall clock runs jobs at their time by it: never early, not 2 s late", arguments: [2_000_000, -2_000_000])
    func gate(offsetMicros: Int64) async throws {
        let clock = ShiftedClock(offsetMicros: offsetMicros)
        let gate = DueGate(clock: clock)
        defer { gate.stop() }
        let at = clock.nowMillis() + 100
        let started = ContinuousClock.now
        let ranAt = await gate.run(at: at) { clock.nowMillis() }
        let waited = started.duration(to: .now)
        #expect(ranAt >= at)
        #expect(waited < .milliseconds(1_800), "waited \(waited) for a job due in 100 ms")
    }

    @Test("a wheel driver on a clock 2 s ahead of the wall clock expires entries at their time by it", arguments: [2_000_000, -2_000_000])
    func driver(offsetMicros: Int64) async throws {
        let clock = ShiftedClock(offsetMicros: offsetMicros)
        let (driver, expirations) = TimingWheelDriver<Int>.makeStream(clock: clock)
        defer { driver.stop() }
        let due = clock.nowMillis() + 100
        let started = ContinuousClock.now
        driver.insert(1, dueMillis: due)
        var iterator = expirations.makeAsyncIterator()
        let batch = await iterator.next()
        let expiredAt = clock.nowMillis()
        #expect(batch?.map(\.id) == [1])
        #expect(expiredAt >= due)
        #expect(started.duration(to: .now) < .milliseconds(1_800))
    }
}
