import Foundation
import Testing
import TockCore

/// `store.replicaAcks` larger than the replicas a master has: the writes of its shards wait until
/// a replica confirms them (by design), and the worker says which shards wait: in `/readyz`, in
/// its heartbeat summary (`/v1/console` and the console page) and in `tock_replica_wait_shards`.
@Suite(.serialized) struct ReplicaWaitTests {
    /// `workers[id].summary.replicaWait` of the monitor's `/v1/console`, read as plain JSON.
    static func replicaWait(of worker: String, monitorPort: UInt16) async throws -> [String: Any]? {
        let body = try await TestSocket.get(port: monitorPort, path: "/v1/console").body
        let console = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let workers = console?["workers"] as? [[String: Any]] ?? []
        let summary = workers.first { $0["id"] as? String == worker }?["summary"] as? [String: Any]
        return summary?["replicaWait"] as? [String: Any]
    }

    @Test(
        "replicaAcks 1 on a Redis without a replica: /readyz, /v1/console, the console page and tock_replica_wait_shards name the waiting shards; once a replica attaches the messages fire and the list empties"
    )
    func shardsWaitForReplicas() async throws {
        let chromium = try #require(ConsoleBrowserTests.chromium, "chromium is not installed (scripts/setup installs it)")
        // A Redis of the test's own: a replica attaches to it later.
        let redis = try await RedisTestServer.start()
        defer { redis.stop() }
        try await ClusterFixture.run("replica-wait", redisURL: redis.url) { c in
            let s = c.scenario
            let monitor = try await c.startMonitor("m1")
            let port = try TestSocket.freePort()
            try await c.startBalanced(
                ["w-a"], env: ["w-a": ["TOCK_HTTP_PORT": "\(port)", "TOCK_STORE_REPLICA_ACKS": "1", "TOCK_STORE_REPLICA_ACK_TIMEOUT": "200ms"]])
            let out = try await s.collect([s.outputTopic])
            let ids = ["rw-1", "rw-2", "rw-3"]
            try await s.send(ids.map { s.request(id: $0, at: WorkerScenario.now) })
            let shards = Set(ids.map { ShardMap(shardCount: 8).shard(of: $0) }).sorted()
            let named =
                "shard\(shards.count == 1 ? "" : "s") \(shards.map(String.init).joined(separator: ", ")) wait\(shards.count == 1 ? "s" : "") for replicas: "
                + "0 of the 1 store.replicaAcks asks confirmed their writes"

            var readyz = ""
            do {
                try await waitUntil("the worker's /readyz names shards \(shards)", within: .seconds(20)) {
                    let response = try await TestSocket.get(port: port, path: "/readyz")
                    readyz = response.body
                    return response.status == 503 && readyz.contains(named)
                }
            } catch {
                Issue.record("\(error); /readyz said: \(readyz)")
                throw error
            }
            #expect(readyz.contains("replicaAcks 1 needs 2 replicas per master"), "\(readyz)")
            var wait: [String: Any]?
            try await waitUntil("/v1/console shows w-a's waiting shards", within: .seconds(15)) {
                wait = try await Self.replicaWait(of: "w-a", monitorPort: monitor.httpPort)
                return wait?["shards"] as? [Int] == shards
            }
            #expect(wait?["acked"] as? Int == 0 && wait?["wanted"] as? Int == 1, "\(String(describing: wait))")
            let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(s.name)")
            defer { try? FileManager.default.removeItem(at: profile) }
            let dump = try await CLIRun.run(
                ConsoleBrowserTests.chromiumArguments(["--dump-dom", "http://127.0.0.1:\(monitor.httpPort)/"], profile: profile),
                executable: URL(fileURLWithPath: chromium))
            #expect(dump.stdout.contains("w-a: \(named)"), "\(dump.stdout.suffix(3_000))")
            let gauge = try await MetricsScrape.get(port: port).value("tock_replica_wait_shards")
            #expect(gauge == Double(shards.count))
            #expect(out.on(s.outputTopic).isEmpty, "published without a replica's confirmation")
            print("[replica-wait] /readyz: \(readyz.split(separator: "\n").filter { $0.contains("wait for replicas") }); gauge \(gauge ?? -1)")

            // A replica attaches: the next try of the batch is confirmed, and the shards leave the list.
            let replica = try await RedisTestServer.start(["--replicaof", "127.0.0.1", "\(redis.port)"])
            defer { replica.stop() }
            let fired = await out.wait(for: ids.count, on: s.outputTopic, within: .seconds(30))
            #expect(Set(fired.compactMap { $0.header("tock-id") }) == Set(ids))
            try await waitUntil("/readyz answers 200", within: .seconds(20)) {
                try await TestSocket.get(port: port, path: "/readyz").status == 200
            }
            try await waitUntil("/v1/console shows no waiting shard", within: .seconds(15)) {
                try await Self.replicaWait(of: "w-a", monitorPort: monitor.httpPort) == nil
            }
            #expect(try await MetricsScrape.get(port: port).value("tock_replica_wait_shards") == 0)
            await out.stop()
        }
    }
}
