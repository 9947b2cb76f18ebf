import Foundation
import Synchronization
import Testing
import TockConcurrency
import TockCore

/// Issue 25 item 5's reproduction: a worker fires 600 messages while two clients keep sending it
/// 150 KB request lines, and two more do the same to the monitor. Its fire lateness, its
/// `/healthz` and the monitor's console must be as in the same round without them.
extension HostileHTTPClientTests {
    /// What one round measured.
    struct Round: CustomStringConvertible {
        var latenessMillis: [Int64]
        var delivered: Int
        /// The slowest answer (or the time given up after) per probed URL.
        var slowestProbe: [String: Duration]
        var failedProbes: Int
        var attacks: Int

        var p99: Int64 { Self.percentile(latenessMillis, 0.99) }
        var p50: Int64 { Self.percentile(latenessMillis, 0.50) }
        var maxLateness: Int64 { latenessMillis.max() ?? 0 }

        static func percentile(_ values: [Int64], _ fraction: Double) -> Int64 {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1))]
        }

        var description: String {
            let probes = slowestProbe.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "\(delivered) delivered, lateness p50 \(p50) ms p99 \(p99) ms max \(maxLateness) ms; slowest probes: \(probes); "
                + "\(failedProbes) probes failed; \(attacks) hostile requests sent"
        }
    }

    /// What a round's tasks share.
    final class RoundState: Sendable {
        let stop = Mutex(false)
        let open = Mutex<[RawHTTPConnection]>([])
        let attacks = Mutex(0)
        let failed = Mutex(0)
        let slowest = Mutex<[String: Duration]>([:])
        var stopped: Bool { stop.withLock { $0 } }
    }

    /// One GET on a connection of its own, waiting up to `within`; nil if no whole answer came.
    static func probe(port: UInt16, path: String, within: Duration) async -> (status: Int, took: Duration)? {
        let started = ContinuousClock.now
        guard let connection = try? await RawHTTPConnection.open(port: port) else { return nil }
        defer { connection.shutDown() }
        await connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        guard let response = try? await connection.readResponse(within: within) else { return nil }
        return (response.status, started.duration(to: .now))
    }

    /// Sends 600 messages due over 3 s from 3 s from now, probes the worker's `/healthz` and the
    /// monitor's console every 250 ms meanwhile, and, with `attacking` ports, keeps two clients
    /// per port sending 150 KB request lines from before the first due time until the last arrived.
    static func round(
        _ label: String, scenario s: WorkerScenario, out: OutputCollector, workerPort: UInt16, monitorPort: UInt16, attacking: [UInt16]
    ) async throws -> Round {
        let state = RoundState()
        let hostile = Array(HostileHTTPClientTests.requestLine("/healthz", length: 150_000).utf8) + Array("\r\nHost: x\r\n\r\n".utf8)
        let probeWithin = Duration.seconds(15)

        return try await withThrowingTaskGroup(of: Void.self) { group in
            for port in attacking + attacking {
                group.addTask {
                    while !state.stopped {
                        guard let connection = try? await RawHTTPConnection.open(port: port) else {
                            try? await Task.sleep(for: .milliseconds(50))
                            continue
                        }
                        state.open.withLock { $0.append(connection) }
                        if state.stopped { connection.shutDown() }
                        state.attacks.withLock { $0 += 1 }
                        await connection.send(hostile)
                        _ = try? await connection.readResponse(within: .seconds(60))
                        connection.shutDown()
                        state.open.withLock { $0.removeAll { $0 === connection } }
                    }
                }
            }
            group.addTask {
                let targets: [(String, UInt16, String)] = [
                    ("worker /healthz", workerPort, "/healthz"), ("monitor /v1/console", monitorPort, "/v1/console"), ("monitor /", monitorPort, "/"),
                ]
                while !state.stopped {
                    for (name, port, path) in targets {
                        let answer = await probe(port: port, path: path, within: probeWithin)
                        if answer?.status != 200 { state.failed.withLock { $0 += 1 } }
                        let took = answer?.took ?? probeWithin
                        state.slowest.withLock { $0[name] = max($0[name] ?? .zero, took) }
                    }
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
            // Let the hostile clients get going before anything is due.
            try await Task.sleep(for: .seconds(1))
            let first = WorkerScenario.now + 3_000
            let ids = (0..<600).map { "\(label)-\($0)" }
            try await s.send(ids.enumerated().map { s.request(id: $1, at: first + Int64($0) * 5) })
            await out.waitDistinct(ids.count, on: s.outputTopic, within: .seconds(60)) { arrival in
                arrival.header("tock-id").flatMap { $0.hasPrefix("\(label)-") ? $0 : nil }
            }
            state.stop.withLock { $0 = true }
            for connection in state.open.withLock({ $0 }) { connection.shutDown() }
            try await group.waitForAll()

            var lateness: [String: Int64] = [:]
            for arrival in out.on(s.outputTopic) {
                guard let id = arrival.header("tock-id"), id.hasPrefix("\(label)-"), lateness[id] == nil,
                    let stamp = arrival.message.timestamp?.milliseconds, let due = arrival.header("tock-at").flatMap({ Int64($0) })
                else { continue }
                lateness[id] = stamp - due
            }
            return Round(
                latenessMillis: Array(lateness.values), delivered: lateness.count, slowestProbe: state.slowest.withLock { $0 },
                failedProbes: state.failed.withLock { $0 }, attacks: state.attacks.withLock { $0 })
        }
    }

    @Test(
        "a worker firing 600 messages while two clients each keep sending it 150 KB request lines fires on time; its /healthz and the monitor's console answer within 1 s"
    )
    func firingHoldsUnderHostileClients() async throws {
        try await ClusterFixture.run("http-hostile") { c in
            let s = c.scenario
            let monitor = try await c.startMonitor("m1")
            let workerPort = try TestSocket.freePort()
            try await c.startBalanced(["w-a"], env: ["w-a": ["TOCK_HTTP_PORT": "\(workerPort)"]])
            let out = try await s.collect([s.outputTopic])

            let calm = try await Self.round("calm", scenario: s, out: out, workerPort: workerPort, monitorPort: monitor.httpPort, attacking: [])
            print("[http-hostile] without hostile clients: \(calm)")
            let attacked = try await Self.round(
                "hostile", scenario: s, out: out, workerPort: workerPort, monitorPort: monitor.httpPort,
                attacking: [workerPort, monitor.httpPort])
            print("[http-hostile] with two hostile clients on the worker and two on the monitor: \(attacked)")
            await out.stop()

            #expect(calm.delivered == 600 && attacked.delivered == 600)
            #expect(attacked.attacks >= 4)
            #expect(attacked.failedProbes == 0)
            for (name, took) in attacked.slowestProbe { #expect(took < .seconds(1), "\(name) took \(took)") }
            #expect(attacked.p99 <= calm.p99 + 250, "p99 \(attacked.p99) ms under attack against \(calm.p99) ms without")
        }
    }
}
