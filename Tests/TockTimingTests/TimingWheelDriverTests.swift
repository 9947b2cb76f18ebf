import Synchronization
import Testing
import TockTiming

@testable import TockCore

@Suite("TimingWheelDriver on the real clock")
struct TimingWheelDriverTests {
    @Test("entries arrive through the AsyncStream at or after their due time, each once")
    func streamsExpirations() async throws {
        let clock = SystemWallClock()
        let (driver, expirations) = TimingWheelDriver<Int>.makeStream(clock: clock)
        defer { driver.stop() }
        let start = clock.nowMillis()
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

    @Test("an insert due sooner than the one the driver sleeps on wakes it")
    func soonerInsertWakesDriver() async throws {
        let clock = SystemWallClock()
        let (driver, expirations) = TimingWheelDriver<String>.makeStream(clock: clock)
        defer { driver.stop() }
        let start = clock.nowMillis()
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
