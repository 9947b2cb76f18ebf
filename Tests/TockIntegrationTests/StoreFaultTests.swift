import Foundation
import Synchronization
import Testing
import TockCore
import TockKafka
import TockRedis
import TockStore
import TockWorkerKit

/// SPEC guarantee 1: an accepted request is never stranded. After any Redis error (a timeout, a
/// stall, a full Redis, a lost reply) it still fires while any worker runs. Each test runs a real
/// standalone worker against a Redis of its own (so that stalling it disturbs no other test) and
/// ends with every request delivered once, never early, with the worker still running.
@Suite("Store faults", .serialized, .timeLimit(.minutes(3)))
struct StoreFaultTests {
    /// Sends `perTick` requests every 50 ms for `duration`, each due `dueIn` ms after it is sent,
    /// with ids `<label>-<n>`; returns the ids sent.
    static func steadyFlow(_ s: WorkerScenario, label: String, perTick: Int, duration: Duration, dueIn: Int64) async throws -> Set<String> {
        var sent: Set<String> = []
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: duration)
        var next = 0
        while clock.now < end {
            let records = (next..<next + perTick).map { i in
                s.request(id: "\(label)-\(i)", at: WorkerScenario.now + dueIn, value: Array("\(label)-\(i)".utf8), partition: Int32(i % 4))
            }
            try await s.send(records)
            sent.formUnion((next..<next + perTick).map { "\(label)-\($0)" })
            next += perTick
            try await Task.sleep(for: .milliseconds(50))
        }
        return sent
    }

    static func expectDeliveredOnce(
        _ out: OutputCollector, _ s: WorkerScenario, expected: Set<String>, within: Duration,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> DeliverySummary {
        await out.waitDistinct(expected.count, on: s.outputTopic, within: within) { $0.header("tock-id") }
        await out.settle(on: s.outputTopic)
        let summary = DeliverySummary(out.on(s.outputTopic), expected: expected) { $0.header("tock-id") }
        #expect(summary.missing.isEmpty, "\(summary)", sourceLocation: sourceLocation)
        #expect(summary.duplicates.isEmpty, "\(summary)", sourceLocation: sourceLocation)
        #expect(summary.early.isEmpty, "\(summary)", sourceLocation: sourceLocation)
        #expect(summary.unexpected.isEmpty, "\(summary)", sourceLocation: sourceLocation)
        return summary
    }

    @Test("a store pipeline whose reply is lost after Redis applied it: its batch is read again, and every request still fires once")
    func lostStoreReply() async throws {
        let isolated = try await IsolatedWorker.start("lostreply", env: [FaultPoints.environmentVariable: "store-reply-lost=1"])
        defer { isolated.stop() }
        let (s, port, worker) = (isolated.scenario, isolated.port, isolated.worker)
        let out = try await s.collect([s.outputTopic])

        // Due within the lookahead, so the store puts them straight into the worker's claimed set.
        let ids = (0..<200).map { "lost-\($0)" }
        try await s.send(
            ids.enumerated().map { i, id in
                s.request(id: id, at: WorkerScenario.now + 2_000, value: Array(id.utf8), partition: Int32(i % 4))
            })
        let summary = await Self.expectDeliveredOnce(out, s, expected: Set(ids), within: .seconds(20))
        let scrape = try await MetricsScrape.get(port: port)
        let reread = scrape.value(#"tock_requests_total{result="reread"}"#) ?? 0
        let reconciled = scrape.value("tock_reconciled_total") ?? 0
        print("[lost-reply] \(summary); reread \(Int(reread)), back in the wheel \(Int(reconciled))")
        // The fault did land on stored requests: they were read again, and only the expired claim
        // brought them back.
        #expect(reread > 0)
        #expect(reconciled > 0)
        #expect(worker.isRunning)
        await out.stop()
    }

    @Test("Redis stalled (SIGSTOP) longer than redis.commandTimeout under a steady flow: every request fires once, never early")
    func redisStalledUnderFlow() async throws {
        let isolated = try await IsolatedWorker.start("redisstop", env: ["TOCK_REDIS_COMMAND_TIMEOUT": "1s"])
        defer { isolated.stop() }
        let (redis, s, port, worker) = (isolated.redis, isolated.scenario, isolated.port, isolated.worker)
        let out = try await s.collect([s.outputTopic])

        let stall = Task {
            try await Task.sleep(for: .seconds(2))
            redis.signal(SIGSTOP)
            try await Task.sleep(for: .milliseconds(2_500))
            redis.signal(SIGCONT)
        }
        let sent = try await Self.steadyFlow(s, label: "stop", perTick: 10, duration: .seconds(7), dueIn: 3_000)
        try await stall.value
        let summary = await Self.expectDeliveredOnce(out, s, expected: sent, within: .seconds(40))
        let scrape = try await MetricsScrape.get(port: port)
        print(
            "[redis-stop] \(sent.count) sent; \(summary); reread \(Int(scrape.value(#"tock_requests_total{result="reread"}"#) ?? 0)), "
                + "back in the wheel \(Int(scrape.value("tock_reconciled_total") ?? 0))")
        #expect(worker.isRunning)
        await out.stop()
    }

    @Test("Redis full (maxmemory, noeviction) under a steady flow, then given room: every request fires once, never early")
    func redisFullUnderFlow() async throws {
        let isolated = try await IsolatedWorker.start("redisfull")
        defer { isolated.stop() }
        let (redis, s, port, worker) = (isolated.redis, isolated.scenario, isolated.port, isolated.worker)
        let out = try await s.collect([s.outputTopic])
        let admin = RedisClient(configuration: .init(url: try RedisURL(redis.url)))

        let full = Task {
            try await Task.sleep(for: .seconds(2))
            let info = try await admin.send(RawRedisCommand(["INFO", "memory"]), idempotent: true).string ?? ""
            let used =
                info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }
                .flatMap { Int($0.dropFirst("used_memory:".count)) } ?? 0
            // Just above what it holds: deliveries free some room and new requests take it again,
            // so some shards' store calls succeed while others are refused. 16 KiB: with 256 KiB the
            // flow's steady pending set (about 350 messages) sometimes never outgrew the room.
            _ = try await admin.send(RawRedisCommand(["CONFIG", "SET", "maxmemory", RedisArgument(used + 16 * 1024)]), idempotent: true)
            try await Task.sleep(for: .seconds(5))
            _ = try await admin.send(RawRedisCommand(["CONFIG", "SET", "maxmemory", "0"]), idempotent: true)
        }
        let sent = try await Self.steadyFlow(s, label: "full", perTick: 30, duration: .seconds(9), dueIn: 2_000)
        try await full.value
        let summary = await Self.expectDeliveredOnce(out, s, expected: sent, within: .seconds(40))
        let scrape = try await MetricsScrape.get(port: port)
        print(
            "[redis-full] \(sent.count) sent; \(summary); redis errors \(Int(scrape.value("tock_redis_errors_total") ?? 0)), "
                + "reread \(Int(scrape.value(#"tock_requests_total{result="reread"}"#) ?? 0)), "
                + "back in the wheel \(Int(scrape.value("tock_reconciled_total") ?? 0))")
        #expect((scrape.value("tock_redis_errors_total") ?? 0) > 0, "Redis never refused a write: the test did not fill it")
        #expect(worker.isRunning)
        await admin.close()
        await out.stop()
    }
}
