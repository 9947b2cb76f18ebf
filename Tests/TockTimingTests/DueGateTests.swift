import Synchronization
import Testing
import TockTiming

@testable import TockCore

@Suite("TimingWheelDriver lead and batching, on the real clock")
struct TimingWheelDriverLeadTests {
    @Test("with a lead, entries expire up to that long before they are due, never sooner")
    func leadExpiresAhead() async throws {
        let clock = SystemWallClock()
        let expiries = GateRuns()
        // The handler runs on the driver's thread: its clock reading is the expiry time itself.
        let driver = TimingWheelDriver<Int>(clock: clock, leadMillis: 100, batchMillis: 10) { batch in
            let now = clock.nowMillis()
            expiries.list.withLock { list in for entry in batch { list.append((entry.id, now - entry.dueMillis)) } }
        }
        defer { driver.stop() }
        let start = clock.nowMillis()
        let delays: [Int64] = [250, 253, 300, 360, 361]
        for (i, d) in delays.enumerated() { driver.insert(i, dueMillis: start + d) }
        while expiries.list.withLock({ $0.count }) < delays.count { try await Task.sleep(for: .milliseconds(10)) }
        let list = expiries.list.withLock { $0 }
        for (id, lateness) in list {
            #expect(lateness >= -100, "entry \(id) expired \(-lateness) ms before its due time, more than the lead")
        }
        // Each is expected 90-100 ms ahead; a loaded test machine may delay a few.
        let ahead = list.filter { $0.1 < 0 }.count
        #expect(ahead >= 3, "only \(ahead) of \(delays.count) entries expired before their due time: \(list)")
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
