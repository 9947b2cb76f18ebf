import Foundation
import Testing
import TockCore
import TockKafka
import TockStore

/// Issue 25 item 1: a delivery a worker holds is published, or handed back, within its lease, and a
/// lock nobody publishes under is not renewed (SPEC guarantee 1).
@Suite("Stuck deliveries", .serialized)
struct StuckDeliveryTests {
    @Test("a delivery stuck in its worker goes back to the queue a lease after its due time and is published once from there")
    func stuckSliceIsHandedBack() async throws {
        let s = try await WorkerScenario("stuck")
        let store = try await s.store()
        let port = try TestSocket.freePort()
        let out = try await s.collect([s.outputTopic, s.deadTopic])
        try await s.withWorker(env: ["TOCK_TEST_FAULTS": "hang-before-publish=1", "TOCK_HTTP_PORT": "\(port)"]) { worker in

            // One slice (all due at the same millisecond): the first, which hangs before publishing.
            let due = WorkerScenario.now + 2_500
            let ids = (0..<10).map { "stuck-\($0)" }
            try await s.sendStored(ids.map { s.request(id: $0, at: due) }, store: store)
            try await worker.waitForLog("fault point hang-before-publish", within: .seconds(10))

            let (summary, arrivals) = try await s.deliveredSummary(out, expected: Set(ids), store: store, within: .seconds(30))
            let lease: Int64 = 3_000
            let stamps = arrivals.compactMap { $0.message.timestamp?.milliseconds }
            print("[stuck] \(summary); published \(stamps.map { $0 - due }.sorted()) ms after their due time")
            #expect(summary.missing.isEmpty && summary.duplicates.isEmpty && summary.early.isEmpty && summary.unexpected.isEmpty, "\(summary)")
            // Given back after the lease (not before), queued again within the first backoff (1 s), and
            // published within a claim interval and a lock-ahead of that.
            #expect(stamps.allSatisfy { $0 >= due + lease && $0 <= due + lease + 1_000 + 2_500 }, "\(stamps.map { $0 - due })")
            // Nothing was sent under the given-up lock: the attempt does not count.
            #expect(arrivals.allSatisfy { $0.header("tock-attempt") == "1" })
            #expect(out.on(s.deadTopic).isEmpty)
            let metrics = try await MetricsScrape.get(port: port)
            #expect(metrics.value("tock_deliveries_handed_back_total") == 10)
            #expect(metrics.value("tock_oldest_held_delivery_seconds") == 0)
            #expect(worker.log.contains("stage=publishing"))
            #expect(worker.log.contains("deliveries held past their time without an outcome go back to the queue"))
            // Once given up, the hung lock is not renewed: none is left behind in Redis.
            #expect(try await s.locks(store, shards: 8).isEmpty)
            await out.stop()
            // Not SIGTERM: the drain would wait for the hung slice until shutdown.timeout (30 s).
            await worker.kill9()
        }
    }

    @Test(
        "issue 25's sequence: 2 monitors, 3 workers, 1000 requests/s for 30 s due 4 s after sending; one worker stopped at 8 s for 8 s, another killed at 20 s and replaced: each published once, none early"
    )
    func stallThenKillUnderSteadyFlow() async throws {
        try await ClusterFixture.run("stall-flow", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            try await c.startBalanced(["w-a", "w-b", "w-c"], monitors: ["m1", "m2"])

            let rate = 1_000
            let seconds = 30
            let ids = (0..<(rate * seconds)).map { "sf-\($0)" }
            let start = WorkerScenario.now
            async let sent = Self.sendSteadily(s, ids: ids, perTick: rate / 100, start: start, leadMillis: 4_000)
            async let faults: Void = Self.stallThenKill(c, start: start)
            let failures = try await sent
            try await faults

            let (summary, arrivals) = try await s.deliveredSummary(out, expected: Set(ids), store: c.store, within: .seconds(90))
            let lateness = arrivals.compactMap { arrival in
                arrival.message.timestamp.flatMap { stamp in arrival.header("tock-at").flatMap(Int64.init).map { stamp.milliseconds - $0 } }
            }.sorted()
            let handedBack = ["w-a", "w-b", "w-c", "w-d"].map {
                c.worker($0).log.components(separatedBy: "go back to the queue").count - 1
            }
            print(
                "[stall-flow] \(summary); send failures \(failures); lateness p50 \(lateness[lateness.count / 2]) p99 \(lateness[lateness.count * 99 / 100]) ms; "
                    + "log lines of deliveries given back per worker (a, b, c, d): \(handedBack)")
            #expect(failures == 0)
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.duplicates.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(out.on(s.deadTopic).isEmpty)
        }
    }

    /// `ids` as requests, `perTick` every 10 ms from `start`, each due `leadMillis` after it is
    /// sent, spread over the 4 input partitions; returns how many the broker refused.
    static func sendSteadily(_ s: WorkerScenario, ids: [String], perTick: Int, start: Int64, leadMillis: Int64) async throws -> Int {
        var pending: [KafkaPendingSend] = []
        var next = 0
        var tick: Int64 = 0
        while next < ids.count {
            let now = WorkerScenario.now
            let chunk = ids[next..<min(ids.count, next + perTick)]
            pending.append(
                s.producer.enqueue(chunk.enumerated().map { s.request(id: $1, at: now + leadMillis, key: $1, partition: Int32((next + $0) % 4)) }))
            next += chunk.count
            tick += 1
            try await Task.sleep(for: .milliseconds(max(0, start + tick * 10 - WorkerScenario.now)))
        }
        var failures = 0
        for send in pending {
            for result in await send.results() { if case .failure = result { failures += 1 } }
        }
        return failures
    }

    /// At 8 s w-a stops (SIGSTOP) for 8 s; at 20 s w-b is killed and w-d starts.
    static func stallThenKill(_ c: ClusterFixture, start: Int64) async throws {
        try await Task.sleep(for: .milliseconds(max(0, start + 8_000 - WorkerScenario.now)))
        await c.worker("w-a").signal(SIGSTOP)
        try await Task.sleep(for: .seconds(8))
        await c.worker("w-a").signal(SIGCONT)
        try await Task.sleep(for: .milliseconds(max(0, start + 20_000 - WorkerScenario.now)))
        await c.worker("w-b").kill9()
        try await c.startWorker("w-d", waitReady: false)
    }
}
