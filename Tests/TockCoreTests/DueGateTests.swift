import Synchronization
import Testing
@testable import TockCore

@Suite("TimingWheelDriver lead and batching, on the real clock")
struct TimingWheelDriverLeadTests {
    @Test("with a lead, entries expire up to that long before they are due, never sooner")
    func leadExpiresAhead() async throws {
        let clock = SystemWallClock()
        let (driver, expirations) = TimingWheelDriver<Int>.makeStream(clock: clock, leadMillis: 100, batchMillis: 10)
        defer { driver.stop() }
        let start = clock.nowMillis()
        let delays: [Int64] = [150, 153, 200, 260, 261]
        for (i, d) in delays.enumerated() { driver.insert(i, dueMillis: start + d) }
        var seen = 0, ahead = 0
        for await batch in expirations {
            let now = clock.nowMillis()
            for entry in batch {
                #expect(now >= entry.dueMillis - 100, "entry \(entry.id) expired \(entry.dueMillis - 100 - now) ms before its lead")
                if now < entry.dueMillis { ahead += 1 }
            }
            seen += batch.count
            if seen == delays.count { break }
        }
        #expect(seen == delays.count)
        // Each is expected 90-100 ms ahead; a loaded test machine may delay a few.
        #expect(ahead >= 3, "only \(ahead) of \(delays.count) entries expired before their due time")
    }
}

@Suite("DueGate on the real clock")
struct DueGateTests {
    @Test("jobs run at or after their time, in time order")
    func runsAtTime() async throws {
        let clock = SystemWallClock()
        let gate = DueGate(clock: clock)
        defer { gate.stop() }
        let start = clock.nowMillis()
        let runs = GateRuns()
        let offsets: [Int64] = [170, 145, 210, 130, 150, 150]
        for (i, offset) in offsets.enumerated() {
            gate.schedule(at: start + offset) { runs.list.withLock { $0.append((i, clock.nowMillis())) } }
        }
        while runs.list.withLock({ $0.count }) < offsets.count { try await Task.sleep(for: .milliseconds(10)) }
        let list = runs.list.withLock { $0 }
        #expect(list.map(\.0) == [3, 1, 4, 5, 0, 2], "time order, and queue order within a millisecond")
        for (i, ranAt) in list {
            #expect(ranAt >= start + offsets[i], "job \(i) ran \(start + offsets[i] - ranAt) ms early")
        }
        #expect(gate.pendingCount == 0)
        #expect(await gate.run(at: start) { 42 } == 42)
    }

    @Test("after stop, a job still waits for its time")
    func stoppedGateNeverEarly() async {
        let clock = SystemWallClock()
        let gate = DueGate(clock: clock)
        gate.stop()
        let at = clock.nowMillis() + 30
        let ranAt = await gate.run(at: at) { clock.nowMillis() }
        #expect(ranAt >= at)
    }
}

final class GateRuns: Sendable {
    let list = Mutex<[(Int, Int64)]>([])
}
