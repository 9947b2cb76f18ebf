import Foundation
import Synchronization
import Testing
import TockRedis

/// `RedisClient` on a real 3-master Redis Cluster with a replica each (`scripts/stack --redis cluster`).
@Suite("Redis Cluster client")
struct RedisClusterClientTests {
    @Test("a pipeline over many slots is split per master, run in parallel and answered in request order")
    func pipelineAcrossMasters() async throws {
        try await withTopology(.cluster, "rc-pipe") { stack in
            let client = try RedisClient(url: stack.url, poolSize: 2)
            try await client.connect()
            #expect(client.isCluster)
            #expect(client.clusterSlots.masters.count == 3 && client.clusterSlots.coversEverySlot)
            let keys = (0..<3_000).map { RedisArgument("rc-pipe:\($0)") }
            let masters = Set(keys.map { client.clusterSlots.master(ofSlot: RedisHashSlot.slot(of: $0.bytes))! })
            #expect(masters.count == 3, "the keys span every master")
            for result in try await client.pipeline(arguments: keys.map { ["SET", $0, $0] }) { #expect(try result.get() == .simpleString("OK")) }
            let values = try await client.pipeline(arguments: keys.map { ["GET", $0] })
            #expect(values.map { try? $0.get().string } == keys.map(\.description))
            // A keyless command goes to some master; a key's command to its own.
            #expect(try await client.send(PING()) == "PONG")
            #expect(try await client.send(GET(keys[7])) == keys[7].bytes)
            await client.close()
        }
    }

    @Test("scripts load on each master that lacks them, again after SCRIPT FLUSH on every node")
    func scriptsOnEveryMaster() async throws {
        try await withTopology(.cluster, "rc-script") { stack in
            let client = try RedisClient(url: stack.url)
            let incr = RedisScript(name: "incr", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
            let calls = (0..<300).map { RedisScriptCall(incr, keys: ["{rc-script:\($0 % 30)}:n"], args: ["1"]) }
            for _ in 0..<2 {
                for result in try await client.pipelineEvalSHA(calls) { _ = try result.get() }
                for node in stack.nodes { _ = try? await RedisTopologyStack.nodeClient(node).send(SCRIPT.FLUSH()) }
            }
            let counts = try await client.pipeline(arguments: (0..<30).map { ["GET", "{rc-script:\($0)}:n"] })
            #expect(counts.map { try? $0.get().string } == Array(repeating: "20", count: 30))
            await client.close()
        }
    }

    @Test(
        "a slot migrating under load (CLUSTER SETSLOT MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE): MOVED and ASK are followed, no INCR lost or doubled"
    )
    func slotMigrationUnderLoad() async throws {
        try await withTopology(.cluster, "rc-migrate") { stack in
            let client = try RedisClient(url: stack.url, poolSize: 2)
            try await client.connect()
            let slot = RedisHashSlot.slot(of: "rc-mig")
            let keys = (0..<200).map { RedisArgument("{rc-mig}:\($0)") }
            let source = try #require(client.clusterSlots.master(ofSlot: slot))
            let target = try #require(client.clusterSlots.masters.first { $0 != source })

            let migrated = Atomic<Bool>(false)
            let succeeded = Mutex([Int](repeating: 0, count: keys.count))
            // Writer: INCR every key, round after round, until the slot has moved and a few more.
            async let writer: Int = {
                var rounds = 0
                var after = 0
                while after < 5 {
                    if migrated.load(ordering: .relaxed) { after += 1 }
                    let results = try await client.pipeline(arguments: keys.map { ["INCR", $0] })
                    succeeded.withLock { counts in
                        for (index, result) in results.enumerated() { if case .success(.integer) = result { counts[index] += 1 } }
                    }
                    rounds += 1
                }
                return rounds
            }()
            try await Task.sleep(for: .milliseconds(200))
            // A few keys at a time, slowly: requests meet the slot half moved (ASK) for a while.
            try await RedisTopologyStack.migrate(slot: slot, to: target, in: client.clusterSlots)
            migrated.store(true, ordering: .relaxed)
            let rounds = try await writer

            let values = try await client.pipeline(arguments: keys.map { ["GET", $0] })
            let expected = succeeded.withLock { $0 }
            let statistics = client.clusterStatistics
            print("[rc-migrate] slot \(slot) \(source) → \(target): \(rounds) rounds of \(keys.count) INCR; \(statistics)")
            #expect(values.map { try? $0.get().string.flatMap { Int($0) } } == expected.map { Optional($0) }, "each INCR that succeeded counted once")
            #expect(expected.allSatisfy { $0 == rounds }, "no INCR failed")
            #expect(statistics.asks > 0, "requests met the slot half moved")
            #expect(statistics.moves > 0, "requests met the slot moved")
            #expect(client.clusterSlots.master(ofSlot: slot) == target)
            await client.close()
        }
    }
}

/// Runs `body` on a topology stack of its own, stopped afterwards whatever happened.
func withTopology(_ kind: RedisTopologyStack.Kind, _ label: String, _ body: (RedisTopologyStack) async throws -> Void) async throws {
    let stack = try await RedisTopologyStack.start(kind, label: label)
    do {
        try await body(stack)
    } catch {
        await stack.stop()
        throw error
    }
    await stack.stop()
}
