import Synchronization
import Testing
import TockTiming

@testable import TockCore

@Suite("TimingWheelDriver on the real clock")
struct TimingWheelDriverTests {
    /// Runs `body` with a driver of `ID`s on the real clock, its stream of expirations and the
    /// clock's time once both are made; stops the driver afterwards.
    static func withDriver<ID: Hashable & Sendable>(
        _: ID.Type,
        _ body: (SystemWallClock, TimingWheelDriver<ID>, AsyncStream<[TimingWheelDriver<ID>.Entry]>, Int64) async throws -> Void
    ) async rethrows {
        let clock = SystemWallClock()
        let (driver, expirations) = TimingWheelDriver<ID>.makeStream(clock: clock)
        defer { driver.stop() }
        try await body(clock, driver, expirations, clock.nowMillis())
    }

    @Test("entries arrive through the AsyncStream at or after their due time, each once")
    func streamsExpirations() async throws {
        await Self.withDriver(Int.self) { clock, driver, expirations, start in
            let delays: [Int64] = [30, 5, 120, 60, 0, -50, 250]
            for (i, d) in delays.enumerated() { driver.insert(i, dueMillis: start + d) }
            var seen: [Int: Int64] = [:]
            for await batch in expirations {
                let now = clock.nowMillis()
                for entry in batch {
                    #expect(now >= entry.dueMillis, "entry \(entry.id) early by \(entry.dueMillis - now) ms")
                    #expect(seen[entry.id] == nil, "entry \(entry.id) twice")
                    seen[entry.id] = now - entry.dueMillis
                }
                if seen.count == delays.count { break }
            }
            #expect(seen.count == delays.count)
        }
    }

    @Test("an insert due sooner than the one the driver sleeps on wakes it")
    func soonerInsertWakesDriver() async throws {
        try await Self.withDriver(String.self) { clock, driver, expirations, start in
            driver.insert("late", dueMillis: start + 60_000)
            try await Task.sleep(for: .milliseconds(20))
            driver.insert("soon", dueMillis: clock.nowMillis() + 20)
            var iterator = expirations.makeAsyncIterator()
            let batch = await iterator.next()
            #expect(batch?.map(\.id) == ["soon"])
            // Far below the 60 s the driver slept on; generous, since a loaded 2-core machine running
            // the integration suites beside this test delays threads by a second or more.
            #expect(clock.nowMillis() - start < 10_000)
            #expect(driver.count == 1)
            #expect(driver.cancel("late") != nil)
        }
    }
}
