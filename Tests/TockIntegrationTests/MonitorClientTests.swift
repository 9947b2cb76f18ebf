import Foundation
import Logging
import ServiceLifecycle
import Testing
import TockCore
import TockHTTP
import TockMonitorKit
import TockRuntime

/// `tock stats` and the client under it, against real HTTP servers: a worker's (no
/// `/v1/cluster`: 404), one answering other JSON, and one answering a monitor's cluster view.
@Suite("Monitor client and tock stats")
struct MonitorClientTests {
    /// A leading monitor's view, as `/v1/cluster` serves it.
    static let snapshotJSON = """
        {"monitor":"m-test","leading":true,"leader":"m-test","takenAtMillis":1000,"heartbeatTimeoutMillis":3000,\
        "workers":[{"id":"w-1","lastHeartbeatMillis":900,"heartbeatAgeMillis":100,"live":true,"shards":[0,1]}],\
        "shards":[{"shard":0,"owner":"w-1","epoch":4},{"shard":1,"owner":"w-1","epoch":5}],"reassignments":2}
        """

    /// Serves what a process with these extra routes serves, on a free port, while `body` runs.
    func serving(_ routes: [String: HTTPService.Route] = [:], _ body: (UInt16) async throws -> Void) async throws {
        let logger = Logger.quiet("monitor-client-test")
        let port = try TestSocket.freePort()
        let service = HTTPService(
            host: "127.0.0.1", port: Int(port), metrics: TockMetrics.bootstrap(),
            readiness: { ReadinessReport(ready: true) }, extraRoutes: routes, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await service.waitUntilListening(timeout: .seconds(30))  // the suite starts with dozens of tests at once on 2 cores
            do { try await body(port) } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
    }

    static func json(_ text: String) -> HTTPService.Route {
        { _ in HTTPResponse(contentType: "application/json", body: Array(text.utf8)) }
    }

    @Test("a worker's HTTP server (404 at /v1/cluster) is reported with its URL and status, not as a decoding error")
    func workerIsNotAMonitor() async throws {
        try await serving { port in
            let base = "http://127.0.0.1:\(port)"
            let error = await #expect(throws: MonitorClient.Failure.self) { try await MonitorClient.cluster(at: base) }
            let text = error?.description ?? ""
            #expect(text.contains("\(base)/v1/cluster answered HTTP 404"), "\(text)")
            #expect(text.contains("tock-monitor"), "\(text)")
        }
    }

    @Test("JSON that is not a cluster view is reported with its URL, status and what is missing")
    func otherJSONIsNotAMonitor() async throws {
        try await serving(["GET /v1/cluster": Self.json(#"{"status":"ok"}"#)]) { port in
            let error = await #expect(throws: MonitorClient.Failure.self) { try await MonitorClient.cluster(at: "http://127.0.0.1:\(port)/") }
            let text = error?.description ?? ""
            #expect(text.contains("http://127.0.0.1:\(port)/v1/cluster answered HTTP 200, but not with a tock-monitor's cluster view"), "\(text)")
            #expect(text.contains(#"no "monitor" field"#), "\(text)")
            #expect(text.contains(#"{"status":"ok"}"#), "\(text)")
        }
    }

    @Test("a monitor's cluster view is decoded; nothing listening is 'cannot reach'")
    func monitorAnswers() async throws {
        try await serving(["GET /v1/cluster": Self.json(Self.snapshotJSON)]) { port in
            let answer = try await MonitorClient.cluster(at: "http://127.0.0.1:\(port)")
            #expect(answer.snapshot.monitor == "m-test" && answer.snapshot.leading)
            #expect(answer.snapshot.workers.map(\.id) == ["w-1"])
            #expect(answer.snapshot.shards.map(\.epoch) == [4, 5])
            #expect(answer.json == Data(Self.snapshotJSON.utf8))
        }
        let closed = try TestSocket.freePort()
        let error = await #expect(throws: MonitorClient.Failure.self) { try await MonitorClient.cluster(at: "http://127.0.0.1:\(closed)") }
        #expect(
            error?.description.contains("cannot reach a tock-monitor at http://127.0.0.1:\(closed)/v1/cluster") == true, "\(error?.description ?? "")"
        )
    }

    @Test("the address: --monitor, else monitor.url (TOCK_MONITOR_URL), else this host's http.port")
    func baseURL() throws {
        var reader = try ConfigurationReader(yaml: "http: {port: 9500}", sourceName: "test", environment: [:])
        var configuration = try TockConfiguration(reading: &reader)
        #expect(MonitorClient.baseURL(option: nil, configuration: configuration) == "http://127.0.0.1:9500")
        reader = try ConfigurationReader(yaml: nil, sourceName: "test", environment: ["TOCK_MONITOR_URL": "http://mon:9465"])
        configuration = try TockConfiguration(reading: &reader)
        #expect(MonitorClient.baseURL(option: nil, configuration: configuration) == "http://mon:9465")
        #expect(MonitorClient.baseURL(option: "http://other:1", configuration: configuration) == "http://other:1")
    }

    @Test("tock stats pointed at a worker exits non-zero naming the URL, the status and what it expected; at a monitor it prints the view")
    func statsCommand() async throws {
        try await serving { port in
            let run = try await CLIRun.run(["stats"], environment: ["TOCK_HTTP_PORT": "\(port)"])
            #expect(run.status != 0)
            #expect(run.stderr.contains("http://127.0.0.1:\(port)/v1/cluster answered HTTP 404"), "\(run.stderr)")
            #expect(run.stderr.contains("expected a tock-monitor"), "\(run.stderr)")
            #expect(!run.stderr.contains("couldn’t be read") && !run.stderr.contains("couldn't be read"), "\(run.stderr)")
        }
        try await serving(["GET /v1/cluster": Self.json(Self.snapshotJSON)]) { port in
            let run = try await CLIRun.run(["stats"], environment: ["TOCK_MONITOR_URL": "http://127.0.0.1:\(port)", "TOCK_HTTP_PORT": "1"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("monitor m-test: leading"), "\(run.stdout)")
            #expect(run.stdout.contains("w-1"), "\(run.stdout)")
        }
    }
}
