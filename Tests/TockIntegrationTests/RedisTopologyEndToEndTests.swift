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
    @Test("the full scheduling path on a 3-master cluster and on Sentinel: every message once, never early",
          arguments: [RedisTopologyStack.Kind.cluster, .sentinel])
    func fullPath(kind: RedisTopologyStack.Kind) async throws {
        try await withTopology(kind, "e2e-\(kind)") { stack in
            let s = try await WorkerScenario("e2e-\(kind)", redisURL: stack.url)
            let store = try await s.store()
            let out = try await s.collect([s.outputTopic])
            let worker = try await s.startWorker(env: ["TOCK_STORE_REPLICA_ACKS": "1"])
            let n = 1_000
            let start = WorkerScenario.now
            let ids = (0..<n).map { "p-\($0)" }
            try await s.sendStored(ids.indices.map { s.request(id: ids[$0], at: start + 2_000 + Int64($0) * 3, partition: Int32($0 % 4)) }, store: store)
            if kind == .cluster {
                let masters = Set((0..<8).map { store.client.clusterSlots.master(ofSlot: RedisHashSlot.slot(of: "\(s.keyPrefix):\($0)"))! })
                #expect(masters.count > 1, "the 8 shards span several masters")
            }
            await out.waitDistinct(n, on: s.outputTopic, within: .seconds(30)) { $0.header("tock-id") }
            try await waitUntil("the store is empty", within: .seconds(15)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic)
            let summary = DeliverySummary(out.on(s.outputTopic), expected: Set(ids)) { $0.header("tock-id") }
            print("[e2e-\(kind)] N=\(n): \(summary)")
            #expect(summary.missing.isEmpty && summary.unexpected.isEmpty && summary.early.isEmpty && summary.duplicates.isEmpty, "\(summary)")
            await out.stop()
            #expect(await worker.signal(SIGTERM) == 0)
        }
    }

    @Test("a busy shard's slot migrates to another master while requests arrive and messages are due: MOVED, ASK and TRYAGAIN followed; none lost, early or published twice")
    func slotMigration() async throws {
        try await withTopology(.cluster, "e2e-migrate") { stack in
            let s = try await WorkerScenario("e2e-migrate", redisURL: stack.url)
            let store = try await s.store()
            let out = try await s.collect([s.outputTopic])
            let port = try TestSocket.freePort(in: 20_000...32_000)
            let worker = try await s.startWorker(env: ["TOCK_HTTP_PORT": "\(port)"])
            let n = 2_000
            let start = WorkerScenario.now
            let ids = (0..<n).map { "m-\($0)" }
            try await s.sendStored(ids.indices.map { s.request(id: ids[$0], at: start + 3_000 + Int64($0) * 5, partition: Int32($0 % 4)) }, store: store)
            async let arriving: [String] = {
                var sent: [String] = []
                for round in 0..<30 {
                    let batch = (0..<10).map { "a-\(round)-\($0)" }
                    try await s.send(batch.enumerated().map { s.request(id: $1, at: WorkerScenario.now + 1_500, partition: Int32($0 % 4)) })
                    sent += batch
                    try await Task.sleep(for: .milliseconds(100))
                }
                return sent
            }()
            try await Task.sleep(for: .milliseconds(max(0, start + 4_000 - WorkerScenario.now)))
            // Shard 0's slot, with its messages, locks and tombstones, to another master.
            let slots = store.client.clusterSlots
            let slot = RedisHashSlot.slot(of: "\(s.keyPrefix):0")
            let target = try #require(slots.masters.first { $0 != slots.master(ofSlot: slot) })
            let migrationStart = WorkerScenario.now
            try await RedisTopologyStack.migrate(slot: slot, to: target, in: slots, batch: 20, pause: .milliseconds(20))
            let migrationMillis = WorkerScenario.now - migrationStart
            let expected = Set(ids).union(try await arriving)

            await out.waitDistinct(expected.count, on: s.outputTopic, within: .seconds(60)) { $0.header("tock-id") }
            try await waitUntil("the store is empty", within: .seconds(30)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .seconds(2))
            let summary = DeliverySummary(out.on(s.outputTopic), expected: expected) { $0.header("tock-id") }
            let metrics = try await MetricsScrape.get(port: port)
            let moved = metrics.value("tock_redis_cluster_redirects_total{kind=\"moved\"}") ?? 0
            let asked = metrics.value("tock_redis_cluster_redirects_total{kind=\"ask\"}") ?? 0
            let retried = metrics.value("tock_redis_cluster_retries_total") ?? 0
            print("[e2e-migrate] N=\(expected.count); slot \(slot) (shard 0) moved to \(target) in \(migrationMillis) ms at +\(migrationStart - start) ms; "
                  + "worker: \(Int(moved)) MOVED, \(Int(asked)) ASK, \(Int(retried)) retries; \(summary)")
            #expect(summary.missing.isEmpty && summary.unexpected.isEmpty && summary.early.isEmpty && summary.duplicates.isEmpty, "\(summary)")
            #expect(moved > 0, "the worker followed the slot")
            #expect(store.client.clusterSlots.master(ofSlot: slot) == target || moved > 0)
            await out.stop()
            #expect(await worker.signal(SIGTERM) == 0)
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

    @Test("a Redis failover while requests arrive and messages are due, with store.replicaAcks 1: none lost, early or published twice",
          arguments: Fault.allCases)
    func failover(fault: Fault) async throws {
        let kind: RedisTopologyStack.Kind = fault == .clusterMasterKilled ? .cluster : .sentinel
        try await withTopology(kind, "fo-\(fault.rawValue.prefix(8))") { stack in
            let s = try await WorkerScenario("fo-\(fault.rawValue.prefix(8))", redisURL: stack.url)
            let store = try await s.store()
            let out = try await s.collect([s.outputTopic])
            let worker = try await s.startWorker(env: ["TOCK_STORE_REPLICA_ACKS": "1"])

            // 2000 stored up front, due over 10 s from 3 s ahead; 400 more sent during the failover.
            let n = 2_000
            let start = WorkerScenario.now
            let ids = (0..<n).map { "f-\($0)" }
            try await s.sendStored(ids.indices.map { s.request(id: ids[$0], at: start + 3_000 + Int64($0) * 5, partition: Int32($0 % 4)) }, store: store)
            try await Task.sleep(for: .milliseconds(max(0, start + 5_000 - WorkerScenario.now)))

            // The node to fail: the master of most shards, or the primary.
            let victim: String
            let successor: String
            switch kind {
            case .cluster:
                let slots = store.client.clusterSlots
                var shardsOf: [RedisNodeAddress: Int] = [:]
                for shard in 0..<8 { shardsOf[slots.master(ofSlot: RedisHashSlot.slot(of: "\(s.keyPrefix):\(shard)"))!, default: 0] += 1 }
                let master = shardsOf.max { $0.value < $1.value }!.key
                victim = master.description
                successor = try #require(slots.shards.first { $0.master == master }?.replicas.first).description
            case .sentinel:
                victim = stack.nodes[0]
                successor = stack.nodes[1]
            }

            // Requests keep arriving through the failover: 400 over 4 s, each due 2 s after it is sent.
            async let arriving: [String] = {
                var sent: [String] = []
                for round in 0..<40 {
                    let batch = (0..<10).map { "a-\(round)-\($0)" }
                    try await s.send(batch.enumerated().map { s.request(id: $1, at: WorkerScenario.now + 2_000, partition: Int32($0 % 4)) })
                    sent += batch
                    try await Task.sleep(for: .milliseconds(100))
                }
                return sent
            }()

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
                    let named = try await sentinel.send(RawRedisCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "tock"), as: [String].self, idempotent: true)
                    return named.joined(separator: ":") == successor
                }
            }
            // A killed node comes back, as a replica of its successor: with replicaAcks 1 the
            // successor's writes count as durable only from then on.
            if fault != .sentinelFailover {
                let (status, output) = await stackThread.run { TestStack.runStackScriptReturningStatus(["start", stack.name], mergingStandardError: true) }
                #expect(status == 0, "\(output)")
            }
            let restartedAt = WorkerScenario.now
            let arrived = try await arriving
            let expected = Set(ids).union(arrived)

            await out.waitDistinct(expected.count, on: s.outputTopic, within: .seconds(60)) { $0.header("tock-id") }
            try await waitUntil("the store is empty", within: .seconds(30)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .seconds(2))
            let arrivals = out.on(s.outputTopic)
            let summary = DeliverySummary(arrivals, expected: expected) { $0.header("tock-id") }
            let dueInPause = DeliverySummary(arrivals.filter {
                guard let due = $0.header("tock-at").flatMap({ Int64($0) }) else { return false }
                return due >= failedAt && due <= promotedAt
            }, expected: []) { $0.header("tock-id") }
            let metrics = worker.log.components(separatedBy: "\n").filter { $0.contains("fewer replicas") || $0.contains("Sentinel names") }.count
            print("[failover-\(fault.rawValue)] N=\(expected.count) (\(arrived.count) sent during the failover); \(victim) failed at +\(failedAt - start) ms; "
                  + "\(successor) primary after \(promotedAt - failedAt) ms; restarted at +\(restartedAt - failedAt) ms; "
                  + "lateness of those due in the pause: max \(dueInPause.maxLatenessMillis) ms; replica-ack or primary-change log lines \(metrics); \(summary)")
            for arrival in arrivals where summary.duplicated.contains(arrival.header("tock-id") ?? "") {
                print("[failover-\(fault.rawValue)] copy of \(arrival.header("tock-id") ?? ""): attempt \(arrival.header("tock-attempt") ?? "-"), "
                      + "at +\((arrival.message.timestamp?.milliseconds ?? 0) - failedAt) ms from the failure, partition \(arrival.message.partition)")
            }
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(summary.duplicates.isEmpty, "guarantee 3 through a failover: \(summary)")
            await out.stop()
            #expect(await worker.signal(SIGTERM) == 0)
        }
    }
}
