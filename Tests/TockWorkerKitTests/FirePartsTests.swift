import Testing
import TockCore
import TockStore

@testable import TockWorkerKit

@Suite("The fire path's parts over an in-memory store: locking with fencing and retries, recording outcomes until they land")
struct FirePartsTests {
    @Test("the locker locks owned shards, gives up a fenced shard (ownership and wheel), and returns a failed shard's entries to retry")
    func locker() async {
        let owners = (0..<3).reduce(into: [Int: ShardOwnership]()) { $0[$1] = ShardOwnership(worker: "w", epoch: 1) }
        let parts = FireParts(owned: owners)
        let ids = (0..<3).map { parts.id(in: $0, $0) }
        let inFenced = parts.id(in: 1, 7)
        parts.wheel.insert([(inFenced, SystemWallClock().nowMillis() + 60_000)])
        parts.store.beginAnswers.withLock { $0 = [[1: .failure(.fenced(shard: 1, detail: "epoch 2")), 2: .failure(.corrupt("down"))]] }
        let locker = DeliveryLocker(context: parts.context, store: parts.store, wheel: parts.wheel)
        let (locked, retry) = await locker.lock(ids.map { DeliveryWheel.Entry(id: $0, dueMillis: 5) })
        #expect(locked.map(\.entry) == [ids[0]])
        #expect(retry.map(\.id) == [ids[2]])
        #expect(parts.state.ownership(of: 1) == nil && parts.state.ownership(of: 0) != nil, "the fenced shard is given up")
        #expect(parts.wheel.missing([(inFenced, 0)]).count == 1, "the fenced shard's wheel entries are dropped")
    }

    @Test("the locker sends nothing for a batch of shards it does not own")
    func lockerNotOwned() async {
        let parts = FireParts(owned: [0: ShardOwnership(worker: "w", epoch: 1)])
        let locker = DeliveryLocker(context: parts.context, store: parts.store, wheel: parts.wheel)
        let (locked, retry) = await locker.lock([DeliveryWheel.Entry(id: parts.id(in: 1, 1), dueMillis: 5)])
        #expect(locked.isEmpty && retry.isEmpty)
        #expect(parts.store.calls.withLock { $0.begin.isEmpty })
    }

    @Test("the recorder tries again only the locks whose outcome failed, and puts retries due soon into the wheel")
    func recorder() async {
        let parts = FireParts()
        parts.store.finishFailures.withLock { $0 = ["l:2": 2] }
        let recorder = OutcomeRecorder(context: parts.context, store: parts.store, wheel: parts.wheel)
        var first = LockOutcome(shard: 0, lock: "l:1")
        first.markRetry(lockedDelivery("r", lock: "l:1"), atMillis: SystemWallClock().nowMillis() + 60_000)
        await recorder.finish([first, LockOutcome(shard: 1, lock: "l:2")])
        #expect(parts.store.calls.withLock { $0.finish } == [["l:1", "l:2"], ["l:2"], ["l:2"]])
        #expect(parts.wheel.missing([("r", 0)]).isEmpty, "the retry is in the wheel")
    }
}
