import Foundation
import Synchronization
import Testing
import TockKafka
import TockRedis
import TockStore

/// The whole scheduling path (a `tock-worker` process, the shared broker) on a Redis Cluster and
/// on Sentinel, healthy and through a failover: SPEC guarantees 1 and 3 with
/// `store.replicaAcks: 1`.
@Suite("Redis Cluster and Sentinel end to end", .serialized)
struct RedisTopologyEndToEndTests {
    @Test(
        "the full scheduling path on a 3-master cluster and on Sentinel: every message once, never early",
        arguments: [RedisTopologyStack.Kind.cluster, .sentinel])
    func fullPath(kind: RedisTopologyStack.Kind) async throws {
        try await TopologyRun.run(kind, "e2e-\(kind)", env: ["TOCK_STORE_REPLICA_ACKS": "1"]) { run in
            let ids = try await run.scheduleStored("p", count: 1_000, fromMillis: WorkerScenario.now + 2_000, spacingMillis: 3)
            if kind == .cluster {
                let slots = run.store.client.clusterSlots
                let masters = Set((0..<8).map { slots.master(ofSlot: RedisHashSlot.slot(of: "\(run.scenario.keyPrefix):\($0)"))! })
                #expect(masters.count > 1, "the 8 shards span several masters")
            }
            let (summary, _) = try await run.scenario.deliveredSummary(run.out, expected: ids, store: run.store)
            print("[e2e-\(kind)] N=\(ids.count): \(summary)")
            #expect(summary.missing.isEmpty && summary.unexpected.isEmpty && summary.early.isEmpty && summary.duplicates.isEmpty, "\(summary)")
        }
    }

    @Test(
        "a busy shard's slot migrates to another master while requests arrive and messages are due: MOVED, ASK and TRYAGAIN followed; none lost, early or published twice"
    )
    func slotMigration() async throws {
        let port = try TestSocket.freePort()
        try await TopologyRun.run(.cluster, "e2e-migrate", env: ["TOCK_HTTP_PORT": "\(port)"]) { run in
            let start = WorkerScenario.now
            let ids = try await run.scheduleStored("m", count: 2_000, fromMillis: start + 3_000, spacingMillis: 5)
            async let arriving = run.keepSending(rounds: 30, leadMillis: 1_500)
            try await Task.sleep(for: .milliseconds(max(0, start + 4_000 - WorkerScenario.now)))
            // Shard 0's slot, with its messages, locks and tombstones, to another master.
            let slots = run.store.client.clusterSlots
            let slot = RedisHashSlot.slot(of: "\(run.scenario.keyPrefix):0")
            let target = try #require(slots.masters.first { $0 != slots.master(ofSlot: slot) })
            let migrationStart = WorkerScenario.now
            try await RedisTopologyStack.migrate(slot: slot, to: target, in: slots, batch: 20, pause: .milliseconds(20))
            let migrationMillis = WorkerScenario.now - migrationStart
            let expected = ids.union(try await arriving)

            let (summary, _) = try await run.scenario.deliveredSummary(run.out, expected: expected, store: run.store, quiet: .seconds(2))
            let metrics = try await MetricsScrape.get(port: port)
            let moved = metrics.value("tock_redis_cluster_redirects_total{kind=\"moved\"}") ?? 0
            let asked = metrics.value("tock_redis_cluster_redirects_total{kind=\"ask\"}") ?? 0
            let retried = metrics.value("tock_redis_cluster_retries_total") ?? 0
            print(
                "[e2e-migrate] N=\(expected.count); slot \(slot) (shard 0) moved to \(target) in \(migrationMillis) ms at +\(migrationStart - start) ms; "
                    + "worker: \(Int(moved)) MOVED, \(Int(asked)) ASK, \(Int(retried)) retries; \(summary)")
            #expect(summary.missing.isEmpty && summary.unexpected.isEmpty && summary.early.isEmpty && summary.duplicates.isEmpty, "\(summary)")
            #expect(moved > 0, "the worker followed the slot")
        }
    }

    enum Fault: String, CaseIterable, Sendable {
        /// SIGKILL of the cluster master that holds the most shards.
        case clusterMasterKilled
        /// `SENTINEL FAILOVER`: the primary is healthy and is demoted.
        case sentinelFailover
        /// SIGKILL of the Sentinel set's primary.
        case sentinelPrimaryKilled
    }

    @Test(
        "a Redis failover while requests arrive and messages are due, with store.replicaAcks 1: none lost, early or published twice",
        arguments: Fault.allCases)
    func failover(fault: Fault) async throws {
        let kind: RedisTopologyStack.Kind = fault == .clusterMasterKilled ? .cluster : .sentinel
        try await TopologyRun.run(kind, "fo-\(fault.rawValue.prefix(8))", env: ["TOCK_STORE_REPLICA_ACKS": "1"]) { run in
            let (stack, store) = (run.stack, run.store)
            // 2000 stored up front, due over 10 s from 3 s ahead; 400 more sent during the failover.
            let start = WorkerScenario.now
            let ids = try await run.scheduleStored("f", count: 2_000, fromMillis: start + 3_000, spacingMillis: 5)
            try await Task.sleep(for: .milliseconds(max(0, start + 5_000 - WorkerScenario.now)))

            // The node to fail: the master of most shards, or the primary.
            let victim: String
            let successor: String
            switch kind {
            case .cluster:
                let slots = store.client.clusterSlots
                var shardsOf: [RedisNodeAddress: Int] = [:]
                for shard in 0..<8 { shardsOf[slots.master(ofSlot: RedisHashSlot.slot(of: "\(run.scenario.keyPrefix):\(shard)"))!, default: 0] += 1 }
                let master = shardsOf.max { $0.value < $1.value }!.key
                victim = master.description
                successor = try #require(slots.shards.first { $0.master == master }?.replicas.first).description
            case .sentinel:
                victim = stack.nodes[0]
                successor = stack.nodes[1]
            }

            // Requests keep arriving through the failover: 400 over 4 s, each due 2 s after it is sent.
            async let arriving = run.keepSending(rounds: 40, leadMillis: 2_000)

            let failedAt = WorkerScenario.now
            switch fault {
            case .clusterMasterKilled, .sentinelPrimaryKilled:
                try await stack.kill(victim)
            case .sentinelFailover:
                let sentinel = try RedisTopologyStack.nodeClient(try RedisTopology(stack.url).urls[0].address.description)
                _ = try await sentinel.send(RawRedisCommand("SENTINEL", "FAILOVER", "tock"))
            }
            // The pause: until the successor serves as primary.
            let successorClient = try RedisTopologyStack.nodeClient(successor)
            try await waitUntil("\(successor) is promoted", within: .seconds(30), every: .milliseconds(20)) {
                guard case .array(let role) = try await successorClient.send(RawRedisCommand("ROLE"), idempotent: true) else { return false }
                return role.first?.string == "master"
            }
            let promotedAt = WorkerScenario.now
            if kind == .sentinel {
                // The node restarted below follows the primary the Sentinels name: let them name it first.
                let sentinel = try RedisTopologyStack.nodeClient(try RedisTopology(stack.url).urls[0].address.description)
                try await waitUntil("the Sentinels name \(successor)", within: .seconds(30), every: .milliseconds(20)) {
                    let named = try await sentinel.send(
                        RawRedisCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "tock"), as: [String].self, idempotent: true)
                    return named.joined(separator: ":") == successor
                }
            }
            // A killed node comes back, as a replica of its successor: with replicaAcks 1 the
            // successor's writes count as durable only from then on.
            if fault != .sentinelFailover {
                let (status, output) = await stackThread.run {
                    TestStack.runStackScriptReturningStatus(["start", stack.name], mergingStandardError: true)
                }
                #expect(status == 0, "\(output)")
            }
            let restartedAt = WorkerScenario.now
            let arrived = try await arriving
            let expected = ids.union(arrived)

            let (summary, arrivals) = try await run.scenario.deliveredSummary(run.out, expected: expected, store: store, quiet: .seconds(2))
            let dueInPause = DeliverySummary(
                arrivals.filter {
                    guard let due = $0.header("tock-at").flatMap({ Int64($0) }) else { return false }
                    return due >= failedAt && due <= promotedAt
                }, expected: []
            ) { $0.header("tock-id") }
            let metrics = run.worker.log.components(separatedBy: "\n").filter { $0.contains("fewer replicas") || $0.contains("Sentinel names") }.count
            print(
                "[failover-\(fault.rawValue)] N=\(expected.count) (\(arrived.count) sent during the failover); \(victim) failed at +\(failedAt - start) ms; "
                    + "\(successor) primary after \(promotedAt - failedAt) ms; restarted at +\(restartedAt - failedAt) ms; "
                    + "lateness of those due in the pause: max \(dueInPause.maxLatenessMillis) ms; replica-ack or primary-change log lines \(metrics); \(summary)"
            )
            for arrival in arrivals where summary.duplicated.contains(arrival.header("tock-id") ?? "") {
                print(
                    "[failover-\(fault.rawValue)] copy of \(arrival.header("tock-id") ?? ""): attempt \(arrival.header("tock-attempt") ?? "-"), "
                        + "at +\((arrival.message.timestamp?.milliseconds ?? 0) - failedAt) ms from the failure, partition \(arrival.message.partition)"
                )
            }
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(summary.duplicates.isEmpty, "guarantee 3 through a failover: \(summary)")
        }
    }
}

/// One worker of a scenario of its own on a topology stack of its own, with its store and a
/// collector of the output topic; the worker is stopped with SIGTERM (and must drain) at the end.
struct TopologyRun {
    let stack: RedisTopologyStack
    let scenario: WorkerScenario
    let store: ScheduleStore
    let out: OutputCollector
    let worker: WorkerProcessHandle

    static func run(
        _ kind: RedisTopologyStack.Kind, _ label: String, env: [String: String],
        _ body: (TopologyRun) async throws -> Void
    ) async throws {
        try await withTopology(kind, label) { stack in
            let scenario = try await WorkerScenario(label, redisURL: stack.url)
            let run = TopologyRun(
                stack: stack, scenario: scenario, store: try await scenario.store(),
                out: try await scenario.collect([scenario.outputTopic]), worker: try await scenario.startWorker(env: env))
            do {
                try await body(run)
            } catch {
                await run.worker.kill9()
                await run.out.stop()
                throw error
            }
            await run.out.stop()
            await run.worker.expectCleanExit()
        }
    }

    /// Schedules `count` messages `<prefix>-<n>`, due `spacingMillis` apart from `fromMillis`, and
    /// waits until they are stored.
    func scheduleStored(_ prefix: String, count: Int, fromMillis: Int64, spacingMillis: Int64) async throws -> Set<String> {
        let ids = (0..<count).map { "\(prefix)-\($0)" }
        try await scenario.sendStored(
            ids.indices.map {
                scenario.request(id: ids[$0], at: fromMillis + Int64($0) * spacingMillis, partition: Int32($0 % 4))
            }, store: store)
        return Set(ids)
    }

    /// Sends 10 requests every 100 ms for `rounds` rounds, each due `leadMillis` after it is sent;
    /// returns their ids.
    func keepSending(rounds: Int, leadMillis: Int64) async throws -> Set<String> {
        var sent: Set<String> = []
        for round in 0..<rounds {
            let batch = (0..<10).map { "a-\(round)-\($0)" }
            try await scenario.send(
                batch.enumerated().map { scenario.request(id: $1, at: WorkerScenario.now + leadMillis, partition: Int32($0 % 4)) })
            sent.formUnion(batch)
            try await Task.sleep(for: .milliseconds(100))
        }
        return sent
    }
}
