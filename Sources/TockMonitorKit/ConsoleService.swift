import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TockCore
import TockStore

/// Refreshes what the console shows every `intervalMillis`: the workers' heartbeat summaries and
/// the queues' due load (`ScheduleStore.dueLoad`), and records the gauges `tock_pending_messages`,
/// `tock_cold_messages` and `tock_due_messages{within}` (SPEC: every monitor reports them, a standby too: they are
/// read from Redis, not from the leader's view; take their max, not their sum).
public final class ConsoleService: Service, Sendable {
    let store: ScheduleStore
    let monitor: MonitorService
    let intervalMillis: Int64
    let clock: any WallClock
    /// How this monitor's own clock stands (SPEC guarantee 5), for the console.
    let clockStatus: @Sendable () -> ClockStatus?
    let logger: Logger
    let snapshot: Mutex<ConsoleSnapshot>
    let pendingGauge = Gauge(label: "tock_pending_messages")
    let coldGauge = Gauge(label: "tock_cold_messages")
    let dueGauges = Dictionary(
        uniqueKeysWithValues: ["1m", "10m", "1h", "1d"].map {
            ($0, Gauge(label: "tock_due_messages", dimensions: [("within", $0)]))
        })

    public init(
        store: ScheduleStore, monitor: MonitorService, intervalMillis: Int64 = 2_000, clock: any WallClock = SystemWallClock(),
        clockStatus: @escaping @Sendable () -> ClockStatus? = { nil }, logger: Logger
    ) {
        self.store = store
        self.monitor = monitor
        self.intervalMillis = intervalMillis
        self.clock = clock
        self.clockStatus = clockStatus
        self.logger = logger
        snapshot = Mutex(.empty(monitor: monitor.monitorID))
    }

    public var current: ConsoleSnapshot { snapshot.withLock { $0 } }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await refresh() } catch {
                logger.warning("console refresh failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(intervalMillis))
        }
    }

    func refresh() async throws {
        let started = ContinuousClock.now
        let now = clock.nowMillis()
        let load = try await store.cluster.dueLoad(nowMillis: now)
        let took = started.duration(to: .now)
        let summaries = try await store.cluster.workerSummaries()
        var cluster = monitor.currentSnapshot
        if !cluster.leading {
            // A standby's view lists no workers: its console reads them from Redis itself.
            let view = try await store.cluster.workerHeartbeats()
            let live = ClusterSnapshot.live(view.heartbeats, timeoutMillis: monitor.heartbeatTimeoutMillis, nowMillis: view.referenceMillis)
            cluster.workers = ClusterSnapshot.workers(
                heartbeats: view.heartbeats, owners: try await store.cluster.owners(), live: live, holding: view.holding,
                nowMillis: view.referenceMillis)
        }
        var console = ConsoleSnapshot(
            cluster: cluster, summaries: summaries, load: load,
            dueLoadMillis: took.components.seconds * 1_000 + took.components.attoseconds / 1_000_000_000_000_000, nowMillis: now)
        console.clock = clockStatus()
        snapshot.withLock { $0 = console }
        pendingGauge.record(console.pending)
        coldGauge.record(console.cold)
        for (window, gauge) in dueGauges { gauge.record(console.due[window] ?? 0) }
    }
}
