import Foundation
import Synchronization
import Testing
import TockMonitorKit
import TockStore

/// One test's cluster on a `cluster.mode: monitored` scenario: every process it starts is killed
/// at the end, whatever happened.
final class ClusterFixture: Sendable {
    let scenario: WorkerScenario
    let store: ScheduleStore
    private let monitors = Mutex<[MonitorProcessHandle]>([])
    private let workers = Mutex<[String: WorkerProcessHandle]>([:])
    private let launched = Mutex<[WorkerProcessHandle]>([])

    private init(scenario: WorkerScenario, store: ScheduleStore) {
        self.scenario = scenario
        self.store = store
    }

    /// `run`, with a collector of `collect`'s topics, stopped on every path.
    static func run(
        _ label: String, redisURL: String? = nil, collect topics: (WorkerScenario) -> [String],
        _ body: (ClusterFixture, WorkerScenario, OutputCollector) async throws -> Void
    ) async throws {
        try await run(label, redisURL: redisURL) { c in
            try await c.scenario.withCollector(topics(c.scenario)) { out in try await body(c, c.scenario, out) }
        }
    }

    static func run(_ label: String, redisURL: String? = nil, _ body: (ClusterFixture) async throws -> Void) async throws {
        let scenario = try await WorkerScenario(label, clusterMode: "monitored", redisURL: redisURL)
        let fixture = ClusterFixture(scenario: scenario, store: try await scenario.store())
        try await withCleanup({ await fixture.killAll() }) { try await body(fixture) }
    }

    func killAll() async {
        for process in launched.withLock({ $0 }) { await process.kill9() }
    }

    func startMonitor(_ id: String) async throws -> MonitorProcessHandle {
        let monitor = try await scenario.startMonitor(id: id)
        launched.withLock { $0.append(monitor.process) }
        monitors.withLock { $0.append(monitor) }
        return monitor
    }

    @discardableResult
    func startWorker(_ id: String, env: [String: String] = [:], waitReady: Bool = true) async throws -> WorkerProcessHandle {
        let worker = try await scenario.startWorker(id: id, env: env, waitReady: false)
        launched.withLock { $0.append(worker) }
        workers.withLock { $0[id] = worker }
        if waitReady { try await worker.waitForLog("input partitions assigned", within: .seconds(30)) }
        return worker
    }

    /// Launches the workers at once (their consumer group joins overlap), then waits until each consumes.
    func startWorkers(_ ids: [String], env: [String: [String: String]] = [:]) async throws {
        for id in ids { try await startWorker(id, env: env[id] ?? [:], waitReady: false) }
        for id in ids { try await worker(id).waitForLog("input partitions assigned", within: .seconds(30)) }
    }

    func worker(_ id: String) -> WorkerProcessHandle { workers.withLock { $0[id]! } }

    /// Starts the monitors `monitorIDs` one by one, then the workers `ids` at once
    /// (`startWorkers`), and waits until the cluster shows just those workers, balanced
    /// (`waitBalanced`). Returns the monitors and the first balanced view.
    @discardableResult
    func startBalanced(
        _ ids: [String], env: [String: [String: String]] = [:], monitors monitorIDs: [String] = []
    ) async throws -> (monitors: [MonitorProcessHandle], balanced: ClusterSnapshot) {
        var started: [MonitorProcessHandle] = []
        for id in monitorIDs { started.append(try await startMonitor(id)) }
        try await startWorkers(ids, env: env)
        return (started, try await waitBalanced(live: Set(ids)))
    }

    /// How a test that passed ends: the workers `ids`, then `monitors`, are stopped with SIGTERM,
    /// one at a time, and each must exit 0.
    func expectCleanStop(workers ids: [String], monitors: [MonitorProcessHandle], sourceLocation: SourceLocation = #_sourceLocation) async {
        for id in ids { await worker(id).expectCleanExit(sourceLocation: sourceLocation) }
        for monitor in monitors { await monitor.expectCleanExit(sourceLocation: sourceLocation) }
    }

    /// The leading monitor's view (a standby's lists no workers or shards), if one leads.
    func leaderView() async -> ClusterSnapshot? {
        for monitor in monitors.withLock({ $0 }) where monitor.isRunning {
            if let view = try? await monitor.cluster(), view.leading { return view }
        }
        return nil
    }

    /// Waits until the leader's view shows exactly `live` as live workers, every shard owned by one
    /// of them, ⌊S/W⌋ or ⌈S/W⌉ each, and each of those workers' log says it owns just those shards
    /// (it applied the view). Returns the first view that showed it: its
    /// `takenAtMillis` is when the monitor had made the change.
    @discardableResult
    func waitBalanced(live: Set<String>, within: Duration = .seconds(20)) async throws -> ClusterSnapshot {
        var balanced: ClusterSnapshot?
        var problem = "no monitor leads"
        do {
            try await waitUntil("the cluster shows \(live.sorted()) live and balanced", within: within, every: .milliseconds(20)) {
                guard let view = await leaderView() else { return false }
                if let imbalance = view.imbalance(live: live) {
                    problem = imbalance
                    balanced = nil
                    return false
                }
                if balanced == nil { balanced = view }
                for id in live {
                    let owned = workers.withLock({ $0[id] }).map { OwnershipLog($0.log).owned } ?? []
                    if owned != Set(view.shards(of: id)) {
                        problem = "\(id) has not applied its shards \(view.shards(of: id)) yet (its log says \(owned.sorted()))"
                        return false
                    }
                }
                return true
            }
        } catch {
            throw HarnessError("\(error): \(problem)")
        }
        return balanced!
    }
}

/// What a worker's log says about its shards: "assignment changed" lines (gained, lost) and
/// "fenced: lost shard ownership" lines (a claim or lock call found the shard moved before the
/// heartbeat said so).
struct OwnershipLog {
    var owned: Set<Int> = []
    /// Shards it gave up, by either path, in order.
    var lost: [Int] = []
    var gained: [Int] = []

    init(_ log: String) {
        func shards(_ line: Substring, _ field: String) -> [Int] {
            guard let start = line.range(of: "\(field)=[") else { return [] }
            let rest = line[start.upperBound...]
            return rest[..<(rest.firstIndex(of: "]") ?? rest.endIndex)].split(separator: ",").compactMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
        }
        for line in log.split(separator: "\n") {
            if line.contains("assignment changed") {
                let (out, into) = (shards(line, "lost"), shards(line, "gained"))
                owned.subtract(out)
                owned.formUnion(into)
                lost += out
                gained += into
            } else if line.contains("fenced: lost shard ownership"), let match = line.firstMatch(of: /shard=(\d+)/), let shard = Int(match.1) {
                owned.remove(shard)
                lost.append(shard)
            }
        }
    }
}

extension ClusterSnapshot {
    var liveWorkers: Set<String> { Set(workers.filter(\.live).map(\.id)) }

    /// Owner of record → how many shards it owns.
    var shardCounts: [String: Int] {
        shards.reduce(into: [:]) { counts, shard in if let owner = shard.owner { counts[owner, default: 0] += 1 } }
    }

    func shards(of worker: String) -> [Int] { shards.filter { $0.owner == worker }.map(\.shard) }

    /// The worker owning the most shards (the first by id on a tie).
    var busiestWorker: String {
        shardCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }[0].key
    }

    /// Why this view is not "led, exactly `live` live, every shard owned by one of them, ⌊S/W⌋ or
    /// ⌈S/W⌉ each"; nil when it is.
    func imbalance(live expected: Set<String>) -> String? {
        guard leading else { return "\(monitor) does not lead" }
        guard liveWorkers == expected else { return "live workers \(liveWorkers.sorted()), expected \(expected.sorted())" }
        guard !expected.isEmpty, !shards.isEmpty else { return "no workers or no shards" }
        if let orphan = shards.first(where: { $0.owner.map { !expected.contains($0) } ?? true }) {
            return "shard \(orphan.shard) is owned by \(orphan.owner ?? "nobody")"
        }
        let low = shards.count / expected.count, high = (shards.count + expected.count - 1) / expected.count
        let counts = shardCounts
        for worker in expected.sorted() where !(low...high).contains(counts[worker] ?? 0) {
            return "\(worker) owns \(counts[worker] ?? 0) shards, not \(low)…\(high)"
        }
        for worker in workers where worker.live && worker.shards != shards(of: worker.id) {
            return "\(worker.id)'s shard list \(worker.shards) disagrees with the owners \(shards(of: worker.id))"
        }
        return nil
    }
}
