import Foundation
import Testing
import TockRedis

/// `/readyz` answers 503 while the process cannot do its work (Redis or Kafka unreachable,
/// stalled or refusing writes) within about 2 s, and 200 again once it can (SPEC "Processes").
@Suite("Readiness", .serialized, .timeLimit(.minutes(3)))
struct ReadinessTests {
    static let turnsWithin = Duration.milliseconds(2_500)

    /// Polls `/readyz` until it answers `status`; returns how long that took, or nil after `within`.
    static func readiness(port: UInt16, becomes status: Int, within: Duration) async -> (Duration?, String) {
        let clock = ContinuousClock()
        let start = clock.now
        var body = ""
        while clock.now - start < within {
            if let response = try? await TestSocket.get(port: port, path: "/readyz") {
                body = response.body
                if response.status == status { return (clock.now - start, body) }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return (nil, body)
    }

    @Test("Redis stalled (SIGSTOP): worker and monitor /readyz turn 503 within ~2 s, and 200 again after SIGCONT")
    func redisStalled() async throws {
        let isolated = try await IsolatedWorker.start("ready-stop")
        defer { isolated.stop() }
        let (redis, s, port, worker) = (isolated.redis, isolated.scenario, isolated.port, isolated.worker)
        // A monitor of its own key space beside the standalone worker: it only needs Redis.
        let monitor = try await s.startMonitor(id: "m1", env: ["TOCK_STORE_KEY_PREFIX": "\(s.keyPrefix)-mon", "TOCK_CLUSTER_MODE": "monitored"])
        defer { Task { await monitor.kill9() } }
        #expect(await Self.readiness(port: port, becomes: 200, within: .seconds(10)).0 != nil)
        #expect(await Self.readiness(port: monitor.httpPort, becomes: 200, within: .seconds(10)).0 != nil)

        redis.signal(SIGSTOP)
        async let workerDown = Self.readiness(port: port, becomes: 503, within: .seconds(10))
        async let monitorDown = Self.readiness(port: monitor.httpPort, becomes: 503, within: .seconds(10))
        let (worker503, workerBody) = await workerDown
        let (monitor503, monitorBody) = await monitorDown
        redis.signal(SIGCONT)
        let (worker200, _) = await Self.readiness(port: port, becomes: 200, within: .seconds(10))
        let (monitor200, _) = await Self.readiness(port: monitor.httpPort, becomes: 200, within: .seconds(10))
        print(
            "[ready-redis-stop] worker 503 after \(String(describing: worker503)) (\(workerBody.prefix(160))), 200 again after \(String(describing: worker200)); "
                + "monitor 503 after \(String(describing: monitor503)), 200 again after \(String(describing: monitor200))")
        #expect(worker503 != nil && worker503! <= Self.turnsWithin, "\(workerBody)")
        #expect(workerBody.contains("redis"))
        #expect(monitor503 != nil && monitor503! <= Self.turnsWithin, "\(monitorBody)")
        #expect(worker200 != nil && worker200! <= Self.turnsWithin)
        #expect(monitor200 != nil && monitor200! <= Self.turnsWithin)
        #expect(worker.isRunning && monitor.isRunning)
    }

    @Test("Redis refusing writes (maxmemory reached, noeviction): /readyz turns 503 within ~2 s, and 200 again when it has room")
    func redisFull() async throws {
        let isolated = try await IsolatedWorker.start("ready-full")
        defer { isolated.stop() }
        let (redis, port) = (isolated.redis, isolated.port)
        #expect(await Self.readiness(port: port, becomes: 200, within: .seconds(10)).0 != nil)

        let admin = RedisClient(configuration: .init(url: try RedisURL(redis.url)))
        _ = try await admin.send(RawRedisCommand(["CONFIG", "SET", "maxmemory", "1"]), idempotent: true)
        let (down, body) = await Self.readiness(port: port, becomes: 503, within: .seconds(10))
        _ = try await admin.send(RawRedisCommand(["CONFIG", "SET", "maxmemory", "0"]), idempotent: true)
        let (up, _) = await Self.readiness(port: port, becomes: 200, within: .seconds(10))
        print("[ready-redis-full] 503 after \(String(describing: down)) (\(body.prefix(160))), 200 again after \(String(describing: up))")
        #expect(down != nil && down! <= Self.turnsWithin, "\(body)")
        #expect(body.contains("OOM"))
        #expect(up != nil && up! <= Self.turnsWithin)
        await admin.close()
    }

    @Test("the broker stalled (SIGSTOP): /readyz turns 503 within ~2 s, and 200 again after SIGCONT")
    func brokerStalled() async throws {
        // A stack of its own: stalling the shared broker would stall every other test.
        try await OwnStack.withScenario("ready-broker") { _, kafkaPID, s in
            let port = try TestSocket.freePort()
            try await s.withWorker(id: "w1", env: ["TOCK_HTTP_PORT": "\(port)"]) { worker in
                #expect(await Self.readiness(port: port, becomes: 200, within: .seconds(10)).0 != nil)

                kill(kafkaPID, SIGSTOP)
                let (down, body) = await Self.readiness(port: port, becomes: 503, within: .seconds(10))
                kill(kafkaPID, SIGCONT)
                let (up, _) = await Self.readiness(port: port, becomes: 200, within: .seconds(15))
                print("[ready-broker-stop] 503 after \(String(describing: down)) (\(body.prefix(160))), 200 again after \(String(describing: up))")
                #expect(down != nil && down! <= Self.turnsWithin, "\(body)")
                #expect(body.contains("kafka"))
                #expect(up != nil && up! <= .seconds(5))
                await s.producer.shutdown(timeout: .seconds(2))
            }
        }
    }
}
