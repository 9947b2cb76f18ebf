import Testing
import TockCore
import TockStore

@testable import TockWorkerKit

@Suite("WorkerState and the clock: a worker whose clock cannot be trusted fires from no shard")
struct WorkerStateClockTests {
    static let ok = ClockStatus(state: .ok, offsetMillis: 0.1, roundTripMillis: 0.2, detail: "clock: offset +0.10 ms")
    static let corrected = ClockStatus(state: .corrected, offsetMillis: -2_000, roundTripMillis: 0.2, detail: "clock: offset -2000 ms, corrected")
    static let held = ClockStatus(state: .held, offsetMillis: 2_000, roundTripMillis: 0.2, detail: "clock: offset +2000 ms, firing nothing")
    static let owned = [1: ShardOwnership(worker: "w", epoch: 4), 5: ShardOwnership(worker: "w", epoch: 7)]

    @Test("unmeasured at start: no shard to fire from, and /readyz says why")
    func startsHeld() {
        let state = WorkerState(workerID: "w", token: "w/1")
        state.setOwnerships(Self.owned)
        #expect(state.firingHeld)
        #expect(state.ownerships.isEmpty && state.ownership(of: 1) == nil)
        #expect(state.notReadyReasons.contains { $0.hasPrefix("clock: not measured") })
        #expect(state.setClock(Self.ok) == .resumed(Self.owned), "the first good measurement resumes the shards it owns")
        #expect(state.ownerships == Self.owned && !state.firingHeld)
        #expect(!state.notReadyReasons.contains { $0.hasPrefix("clock") })
    }

    @Test("held: the shards are set aside (for the wheel to drop), and come back on resuming; corrected fires like ok")
    func holdAndResume() {
        let state = WorkerState(workerID: "w", token: "w/1")
        _ = state.setClock(Self.corrected)
        state.setOwnerships(Self.owned)
        #expect(state.ownerships == Self.owned, "a corrected clock fires")
        #expect(state.setClock(Self.ok) == nil, "corrected → ok changes nothing about firing")
        #expect(state.setClock(Self.held) == .held(Self.owned))
        #expect(state.ownerships.isEmpty && state.clock == Self.held)
        #expect(state.notReadyReasons.contains(Self.held.detail))
        #expect(state.setClock(Self.held) == nil)
        // A shard fenced away meanwhile is no longer among those that come back.
        state.dropShard(5)
        #expect(state.setClock(Self.corrected) == .resumed([1: ShardOwnership(worker: "w", epoch: 4)]))
    }
}
