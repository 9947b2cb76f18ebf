import Foundation
import Testing
import TockKafka
import TockRedis
import TockStore

/// The cold tier's moves through faults (issue 27): the broker stalled, and a Redis Cluster
/// master killed, while cold messages are being moved. Each message once, never early, none lost.
/// In the end-to-end suite, so that no two cold tests load the machine at once.
extension ColdTierEndToEndTests {
    @Test("the broker stalled (SIGSTOP) for 4 s while cold messages are moved and fired, then resumed: each published once, none early")
    func brokerStalledDuringMoves() async throws {
        try await OwnStack.withScenario("cold-stall") { _, kafkaPID, s in
            let store = try await s.store()
            let out = try await s.collect([s.outputTopic])
            try await s.withWorker(id: "w1", env: ColdTierEndToEndTests.rings(s)) { worker in
                let expected = try await ColdTierEndToEndTests.sendColdLoad(s, prefix: "s")
                try await Self.waitStored(s, store, expected.count)
                try await Task.sleep(for: .seconds(3))
                kill(kafkaPID, SIGSTOP)
                try await Task.sleep(for: .seconds(4))
                kill(kafkaPID, SIGCONT)
                // tansu hides a partition's last batch written before a stall until the next write
                // (BrokerStallTests): nudge the output partitions, as a busy topic's producers would.
                try await waitUntil("the broker answers again", within: .seconds(10), every: .milliseconds(20)) {
                    (try? await out.consumer.watermarks(topic: s.outputTopic, partition: 0, timeout: .milliseconds(500))) != nil
                }
                for result in await s.producer.send(
                    (Int32(0)..<4).map { KafkaProducerRecord(topic: s.outputTopic, partition: $0, value: Array("nudge".utf8)) })
                {
                    _ = try result.get()
                }
                _ = try await s.deliveredSummary(out, expected: expected, store: store, within: .seconds(60))
                let summary = try await Self.summary(s, out, expected: expected)
                print("[cold-stall] \(summary)")
                #expect(summary.missing.isEmpty && summary.duplicates.isEmpty && summary.early.isEmpty && summary.unexpected.isEmpty, "\(summary)")
                #expect(try await store.coldCounts().total == 0)
                await worker.kill9()
            }
        }
    }

    @Test(
        "the Redis Cluster master of most shards SIGKILLed while cold messages are moved, with store.replicaAcks 1: each published once, none early")
    func clusterMasterKilledDuringMoves() async throws {
        try await withTopology(.cluster, "cold-fo") { stack in
            let s = try await WorkerScenario("cold-fo", redisURL: stack.url)
            let store = try await s.store()
            let out = try await s.collect([s.outputTopic])
            let env = ColdTierEndToEndTests.rings(s).merging(["TOCK_STORE_REPLICA_ACKS": "1"]) { $1 }
            try await s.withWorker(id: "w1", env: env) { worker in
                let expected = try await ColdTierEndToEndTests.sendColdLoad(s, prefix: "f")
                try await Self.waitStored(s, store, expected.count)
                try await Task.sleep(for: .seconds(3))
                let slots = store.client.clusterSlots
                var shardsOf: [RedisNodeAddress: Int] = [:]
                for shard in 0..<8 { shardsOf[slots.master(ofSlot: RedisHashSlot.slot(of: "\(s.keyPrefix):\(shard)"))!, default: 0] += 1 }
                let master = shardsOf.max { $0.value < $1.value }!.key
                let successor = try #require(slots.shards.first { $0.master == master }?.replicas.first).description
                try await stack.kill(master.description)
                let successorClient = try RedisTopologyStack.nodeClient(successor)
                try await waitUntil("\(successor) is promoted", within: .seconds(30), every: .milliseconds(20)) {
                    guard case .array(let role) = try await successorClient.send(RawRedisCommand("ROLE"), idempotent: true) else { return false }
                    return role.first?.string == "master"
                }
                // The killed node comes back as a replica of its successor: with replicaAcks 1 the
                // successor's writes count as durable only from then on.
                let (status, output) = await stackThread.run {
                    TestStack.runStackScriptReturningStatus(["start", stack.name], mergingStandardError: true)
                }
                #expect(status == 0, "\(output)")
                _ = try await s.deliveredSummary(out, expected: expected, store: store, within: .seconds(90))
                let summary = try await Self.summary(s, out, expected: expected)
                print("[cold-fo] master \(master) (\(shardsOf[master] ?? 0) of 8 shards) killed; \(summary)")
                #expect(summary.missing.isEmpty && summary.duplicates.isEmpty && summary.early.isEmpty && summary.unexpected.isEmpty, "\(summary)")
                await out.stop()
                await worker.kill9()
            }
        }
    }

    /// What arrived on the output topic (nudges aside); a message missing is looked for again
    /// from offset 0 first (a consumer tailing a partition can skip records).
    static func summary(_ s: WorkerScenario, _ out: OutputCollector, expected: Set<String>) async throws -> DeliverySummary {
        var summary = DeliverySummary(out.on(s.outputTopic).filter { $0.payload != "nudge" }, expected: expected) { $0.header("tock-id") }
        await out.stop()
        if !summary.missing.isEmpty {
            let again = try await s.collect([s.outputTopic])
            await again.waitDistinct(expected.count, on: s.outputTopic, within: .seconds(20)) { $0.header("tock-id") }
            await again.settle(on: s.outputTopic)
            summary = DeliverySummary(again.on(s.outputTopic).filter { $0.payload != "nudge" }, expected: expected) { $0.header("tock-id") }
            await again.stop()
        }
        return summary
    }
}
