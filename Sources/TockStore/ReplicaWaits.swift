import Synchronization
import TockCore

/// Shards whose durable writes fewer replicas confirmed than `store.replicaAcks` asks (Redis
/// `WAIT`): their requests stay unacknowledged and their deliveries wait until the replicas are
/// back. By design (a write only a lost master held is not durable), but an operator must see it:
/// the worker reports these shards in `/readyz`, its heartbeat summary (the console) and
/// `tock_replica_wait_shards`. A shard leaves the list when a durable write to it is confirmed,
/// or `staleAfter` after its last unconfirmed one: nothing of it is waiting any more.
public final class ReplicaWaits: Sendable {
    private struct Wait {
        var acked: Int
        var wanted: Int
        var since: ContinuousClock.Instant
        var last: ContinuousClock.Instant
    }

    private let waits = Mutex<[Int: Wait]>([:])
    private let staleAfter: Duration
    /// Told the number of waiting shards whenever it changes (the worker's gauge).
    private let onChange: @Sendable (Int) -> Void

    public init(staleAfter: Duration = .seconds(30), onChange: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.staleAfter = staleAfter
        self.onChange = onChange
    }

    func noteShortfall(shards: [Int], acked: Int, wanted: Int) {
        let now = ContinuousClock.now
        update { waits in
            for shard in shards where shard >= 0 {
                let since = waits[shard]?.since ?? now
                waits[shard] = Wait(acked: min(acked, waits[shard]?.acked ?? acked), wanted: wanted, since: since, last: now)
            }
        }
    }

    func noteConfirmed(shards: [Int]) {
        update { waits in for shard in shards { waits.removeValue(forKey: shard) } }
    }

    /// The shards waiting now (of `owned`, when given), or nil when none is.
    public func current(among owned: Set<Int>? = nil) -> ReplicaWait? {
        let now = ContinuousClock.now
        let waiting = update { waits in
            waits = waits.filter { now - $0.value.last < staleAfter }
            return waits.filter { owned?.contains($0.key) ?? true }
        }
        guard !waiting.isEmpty else { return nil }
        let longest = waiting.values.map { now - $0.since }.max() ?? .zero
        return ReplicaWait(
            shards: waiting.keys.sorted(), acked: waiting.values.map(\.acked).min() ?? 0, wanted: waiting.values.map(\.wanted).max() ?? 0,
            waitingMillis: longest.components.seconds * 1_000 + longest.components.attoseconds / 1_000_000_000_000_000)
    }

    private func update<T>(_ body: (inout [Int: Wait]) -> T) -> T {
        let (result, before, after) = waits.withLock { waits in
            let before = waits.count
            let result = body(&waits)
            return (result, before, waits.count)
        }
        if before != after { onChange(after) }
        return result
    }
}
