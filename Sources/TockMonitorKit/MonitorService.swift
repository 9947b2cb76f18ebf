import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TockCore
import TockStore

/// One `tock-monitor`. All of them run this loop; one leads through a Redis lease with a fencing
/// token, the others stand by and take over within `cluster.heartbeatTimeout` of its death.
/// The leader, several times per heartbeat interval: finds the live workers (a heartbeat within
/// the timeout), computes a balanced, sticky assignment, gives every shard that changes owner a
/// new epoch (`own`), and publishes the workers' view that their heartbeats return.
public final class MonitorService: Service, Sendable {
    let store: ScheduleStore
    let monitorID: String
    let heartbeatTimeoutMillis: Int64
    let tickMillis: Int64
    let clock: any WallClock
    let logger: Logger
    let snapshot: Mutex<ClusterSnapshot>

    let liveWorkersGauge = Gauge(label: "tock_monitor_live_workers")
    let leaderGauge = Gauge(label: "tock_monitor_leader")
    let reassignmentsCounter = Counter(label: "tock_monitor_reassignments_total")
    let overdueGauge = Gauge(label: "tock_monitor_oldest_overdue_seconds")

    private struct LoopState {
        var token: String?
        var published: (owners: [Int: ShardOwnership], live: Set<String>, holding: Set<String>)?
        var publishedAt: Int64 = 0
        var overdueCheckedAt: Int64 = 0
        var oldestOverdue: Int64?
        var reassignments = 0
        var shardGauges: [String: Gauge] = [:]
    }

    public init(
        store: ScheduleStore, monitorID: String, heartbeatIntervalMillis: Int64, heartbeatTimeoutMillis: Int64,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.store = store
        self.monitorID = monitorID
        self.heartbeatTimeoutMillis = heartbeatTimeoutMillis
        // Detection adds one tick to the heartbeat timeout: keep it small.
        self.tickMillis = max(20, min(100, heartbeatIntervalMillis / 5))
        self.clock = clock
        self.logger = logger
        self.snapshot = Mutex(.empty(monitor: monitorID))
    }

    public var currentSnapshot: ClusterSnapshot { snapshot.withLock { $0 } }

    public func run() async throws {
        var loop = LoopState()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await tick(&loop) } catch {
                logger.warning("monitor tick failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(tickMillis))
        }
        if loop.token != nil {
            try? await store.cluster.resign(monitor: monitorID)
            logger.info("resigned leadership")
        }
    }

    private func tick(_ loop: inout LoopState) async throws {
        let now = clock.nowMillis()
        switch try await store.cluster.lead(monitor: monitorID, ttlMillis: heartbeatTimeoutMillis) {
        case .following(let leader):
            if loop.token != nil { logger.warning("lost leadership", metadata: ["leader": "\(leader)"]) }
            loop.token = nil
            loop.published = nil
            leaderGauge.record(0)
            // Only the leader reports the cluster: a monitor that led before must not go on
            // showing its last view (and sums over both monitors stay true).
            liveWorkersGauge.record(0)
            overdueGauge.record(0)
            loop.oldestOverdue = nil
            for gauge in loop.shardGauges.values { gauge.record(0) }
            loop.shardGauges.removeAll()
            snapshot.withLock {
                $0.leading = false
                $0.leader = leader
            }
        case .leading(let token):
            if loop.token != token {
                logger.notice("leading the cluster", metadata: ["token": "\(token)"])
                loop.published = nil
            }
            loop.token = token
            leaderGauge.record(1)
            try await lead(token: token, now: now, loop: &loop)
        }
    }

    private func lead(token: String, now: Int64, loop: inout LoopState) async throws {
        // Heartbeats are Redis's time, and judged by it (SPEC guarantee 5): neither a worker's clock
        // nor this monitor's can make a live worker look dead, or a dead one live.
        let view = try await store.cluster.workerHeartbeats()
        let heartbeats = view.heartbeats
        let live = ClusterSnapshot.live(heartbeats, timeoutMillis: heartbeatTimeoutMillis, nowMillis: view.referenceMillis)
        let dead = heartbeats.keys.filter { !live.contains($0) }.sorted()
        // A live worker that holds (its clock cannot be trusted) gets no shard: they go to workers that can fire.
        let firing = live.subtracting(view.holding)
        var owners = try await store.cluster.owners()
        let desired = ShardAssignment.rebalance(shardCount: store.shardMap.shardCount, current: owners.mapValues(\.worker), live: firing)
        let changes = desired.filter { owners[$0.key]?.worker != $0.value }
        if !changes.isEmpty {
            let assigned = try await store.cluster.assign(changes)
            owners.merge(assigned) { _, new in new }
            loop.reassignments += changes.count
            reassignmentsCounter.increment(by: changes.count)
            let moved = Dictionary(grouping: changes.keys.sorted(), by: { changes[$0]! })
            logger.notice(
                "reassigned shards",
                metadata: [
                    "moves": "\(changes.count)", "live": "\(live.sorted())", "dead": "\(dead)",
                    "holding": "\(view.holding.intersection(live).sorted())",
                    "to": "\(moved.mapValues { $0.count }.sorted(by: { $0.key < $1.key }))",
                ])
        }
        // Publish on change, and every second anyway: that also repairs a view a deposed leader
        // might have written.
        let changed = loop.published.map { $0.owners != owners || $0.live != live || $0.holding != view.holding } ?? true
        if changed || !dead.isEmpty || now - loop.publishedAt >= 1_000 {
            try await store.cluster.publishAssignment(token: token, owners: owners, workers: live, forget: dead)
            loop.published = (owners, live, view.holding)
            loop.publishedAt = now
        }
        if now - loop.overdueCheckedAt >= 1_000 {
            loop.oldestOverdue = try? await store.cluster.oldestOverdue(nowMillis: now)
            loop.overdueCheckedAt = now
            overdueGauge.record(Double(loop.oldestOverdue.map { now - $0 } ?? 0) / 1_000)
        }
        liveWorkersGauge.record(live.count)
        var perWorker: [String: [Int]] = [:]
        for (shard, owner) in owners { perWorker[owner.worker, default: []].append(shard) }
        for worker in live {
            let gauge = loop.shardGauges[worker] ?? Gauge(label: "tock_monitor_shards", dimensions: [("worker", worker)])
            loop.shardGauges[worker] = gauge
            gauge.record(perWorker[worker]?.count ?? 0)
        }
        for (worker, gauge) in loop.shardGauges where !live.contains(worker) {
            gauge.record(0)
            loop.shardGauges.removeValue(forKey: worker)
        }
        let workers = ClusterSnapshot.workers(
            heartbeats: heartbeats, owners: owners, live: live, holding: view.holding, nowMillis: view.referenceMillis)
        let shards = (0..<store.shardMap.shardCount).map { ClusterSnapshot.Shard(shard: $0, owner: owners[$0]?.worker, epoch: owners[$0]?.epoch) }
        let reassignments = loop.reassignments
        let oldest = loop.oldestOverdue
        snapshot.withLock {
            $0 = ClusterSnapshot(
                monitor: monitorID, leading: true, leader: monitorID, takenAtMillis: now,
                heartbeatTimeoutMillis: heartbeatTimeoutMillis, workers: workers, shards: shards,
                reassignments: reassignments, oldestOverdueMillis: oldest)
        }
    }
}
