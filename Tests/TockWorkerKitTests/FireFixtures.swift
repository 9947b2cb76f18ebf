import Logging
import Synchronization
import TockCore

@testable import TockStore
@testable import TockWorkerKit

/// A delivery `entry` under `lock`, due at `due` (epoch ms), for the fire path's unit tests.
func lockedDelivery(_ entry: String, lock: String = "w/1:1", shard: Int = 0, due: Int64 = 0, attempt: Int = 1, topic: String = "t")
    -> LockedDelivery
{
    LockedDelivery(
        shard: shard, lock: lock, fireMillis: due, attempt: attempt,
        message: ScheduledMessage(id: entry, idWasGiven: true, dueMillis: due, topic: topic, key: nil, value: nil, headers: []))
}

/// The fire path's view of Redis, in memory: each call answers from what the test set up, and is
/// recorded. Only what the tests use is modelled; the real store is tested against real Redis.
final class InMemoryDeliveryStore: DeliveryStore {
    struct Calls {
        var begin: [[Int: [String]]] = []
        var finish: [[String]] = []
    }

    let shardMap: ShardMap
    /// Per call to `begin`, in order: per shard, its answer (default: every entry locked).
    let beginAnswers = Mutex<[[Int: Result<[LockedDelivery], StoreError>]]>([])
    /// Locks whose `finish` fails this many times before it succeeds.
    let finishFailures = Mutex<[String: Int]>([:])
    let calls = Mutex(Calls())

    init(shardCount: Int = 4) { shardMap = ShardMap(shardCount: shardCount) }

    func claim(
        _ ownerships: [Int: ShardOwnership], nowMillis: Int64, horizon: Int64, limit: Int, token: String, ownGraceMillis: Int64
    ) async throws(StoreError) -> [Int: Result<[(id: String, dueMillis: Int64)], StoreError>] { [:] }

    func overdueClaims(_ shards: [Int], dueBefore: Int64, limit: Int) async throws(StoreError) -> [Int: [(id: String, dueMillis: Int64)]] { [:] }

    func release(shard: Int, as owner: ShardOwnership) async throws(StoreError) -> Int { 0 }

    func begin(
        _ entries: [Int: [(id: String, fireMillis: Int64)]], as ownerships: [Int: ShardOwnership], token: String, dueBy: Int64, leaseUntil: Int64
    ) async throws(StoreError) -> [Int: Result<[LockedDelivery], StoreError>] {
        calls.withLock { $0.begin.append(entries.mapValues { $0.map(\.id) }) }
        let answer = beginAnswers.withLock { $0.isEmpty ? [:] : $0.removeFirst() }
        return entries.reduce(into: [:]) { results, shard in
            results[shard.key] =
                answer[shard.key]
                ?? .success(shard.value.map { lockedDelivery($0.id, lock: "\(token):\(shard.key)", shard: shard.key, due: $0.fireMillis) })
        }
    }

    func renew(_ locks: [Int: [String]], leaseUntil: Int64) async throws(StoreError) -> [Int: Int] { locks.mapValues(\.count) }

    func reserveSlots(
        topic: String, perSecond: Int, periodMillis: Int64, nowMillis: Int64, horizonMillis: Int64, dueTimes: [Int64]
    ) async throws(StoreError) -> RateSlots { RateSlots(backlog: 0, slots: dueTimes.map { .publish(atMillis: $0) }) }

    func finishEach(_ locks: [LockOutcome], as ownerships: [Int: ShardOwnership], nowMillis: Int64) async throws(StoreError) -> [Result<
        FinishedLock, StoreError
    >] {
        calls.withLock { $0.finish.append(locks.map(\.lock)) }
        return finishFailures.withLock { failures in
            locks.map { lock in
                if let left = failures[lock.lock], left > 0 {
                    failures[lock.lock] = left - 1
                    return .failure(.corrupt("injected"))
                }
                return .success(FinishedLock(shard: lock.shard, lock: lock.lock, held: true, claimed: lock.retries.map { ($0.id, $0.nextMillis) }))
            }
        }
    }
}

/// The parts of the fire path around an in-memory store, for a worker that owns `owned`.
struct FireParts {
    let store = InMemoryDeliveryStore()
    let state = WorkerState(workerID: "w", token: "w/1")
    let context: FireContext
    let wheel: DeliveryWheel

    init(owned: [Int: ShardOwnership] = [0: ShardOwnership(worker: "w", epoch: 1), 1: ShardOwnership(worker: "w", epoch: 1)]) {
        _ = state.setClock(ClockStatus(state: .ok, offsetMillis: 0, roundTripMillis: 0, detail: "clock: ok"))
        state.setOwnerships(owned)
        let metrics = WorkerMetrics()
        context = FireContext(
            configuration: TockConfiguration(), state: state, metrics: metrics, clock: SystemWallClock(), logger: Logger(label: "test"))
        wheel = DeliveryWheel(lockAheadMillis: 250, shardMap: store.shardMap, clock: SystemWallClock(), metrics: metrics, logger: context.logger)
    }

    /// An id that falls in `shard`.
    func id(in shard: Int, _ n: Int) -> String {
        (0...).lazy.map { "m\(n)-\($0)" }.first { store.shardMap.shard(of: $0) == shard }!
    }
}
