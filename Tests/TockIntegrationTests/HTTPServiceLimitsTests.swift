import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TockHTTP
import TockRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP server's limits and its thread, in process, with the timeouts shortened
/// (`HTTPLimits`): what `HostileHTTPClientTests` checks on real processes at SPEC's values, plus
/// pipelining, HEAD, 405, 413, the connection cap and a shutdown with idle connections open.
@Suite struct HTTPServiceLimitsTests {
    static let logger = Logger.quiet("http-limits-test")

    /// The name of the calling thread (Glibc's module has no pthread_getname_np).
    static func threadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The calling thread's nice value: field 19 of its stat line.
    static func threadNice() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return nil
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    /// Runs an HTTPService with `limits` and these routes, on a free port, for `body`.
    static func serving(
        _ limits: HTTPLimits, routes: [String: HTTPService.Route] = [:], _ body: (UInt16, ServiceGroup) async throws -> Void
    ) async throws {
        let port = try TestSocket.freePort()
        let service = HTTPService(
            host: "127.0.0.1", port: Int(port), metrics: TockMetrics.bootstrap(), readiness: { ReadinessReport(ready: true) },
            extraRoutes: routes, limits: limits, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await service.waitUntilListening(timeout: .seconds(30))
            do { try await body(port, group) } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
    }

    static var short: HTTPLimits {
        var limits = HTTPLimits()
        limits.requestTimeoutMillis = 400
        limits.idleTimeoutMillis = 800
        return limits
    }

    @Test("routes run on the server's own thread at nice 10, not on Swift's cooperative pool; a slow route is not a slow client")
    func routesRunOnTheHTTPThread() async throws {
        let routes: [String: HTTPService.Route] = [
            "GET /thread": { _ in .text(200, "\(Self.threadName()) nice \(Self.threadNice() ?? -99)") },
            "GET /slow": { _ in
                try? await Task.sleep(for: .milliseconds(700))
                return .text(200, Self.threadName())
            },
        ]
        try await Self.serving(Self.short, routes: routes) { port, _ in
            #expect(try await TestSocket.get(port: port, path: "/thread").body == "tock-http nice 10")
            // Longer than the request timeout: the server's own time is not the client's.
            let slow = try await TestSocket.get(port: port, path: "/slow")
            #expect(slow.status == 200 && slow.body == "tock-http")
        }
    }

    @Test("pipelined requests are answered in order; a 414 pipelined behind one waits for its answer")
    func pipelining() async throws {
        try await Self.serving(HTTPLimits()) { port, _ in
            let connection = try await RawHTTPConnection.open(port: port)
            await connection.send(
                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    + HostileHTTPClientTests.requestLine("/healthz", length: 9_000) + "\r\n\r\n")
            let first = try await connection.readResponse()
            let second = try await connection.readResponse()
            #expect(first.status == 200 && first.body == "ok\n")
            #expect(second.status == 200 && second.body == "ready\n")
            // HEAD: the GET's head, no body.
            let head = try await connection.readResponse(toHead: true)
            #expect(head.status == 200 && head.headers["content-length"] == "3")
            let rejected = try await connection.readResponse()
            #expect(rejected.status == 414 && rejected.headers["connection"] == "close", "\(rejected)")
            #expect(await connection.waitForClose(within: .seconds(3)))
        }
    }

    @Test("a trickling client is closed after the request timeout, an idle one after the idle timeout")
    func timeouts() async throws {
        try await Self.serving(Self.short) { port, _ in
            let clock = ContinuousClock()
            let trickle = try await RawHTTPConnection.open(port: port)
            let opened = clock.now
            await trickle.send("GET /healthz HTTP/1.1\r\n")
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(100))
                guard await trickle.send("X: y\r\n") else { break }
            }
            #expect(await trickle.waitForClose(within: .seconds(2)))
            let trickled = opened.duration(to: clock.now)
            #expect(trickled >= .milliseconds(380) && trickled < .milliseconds(900), "\(trickled)")

            let idle = try await RawHTTPConnection.open(port: port)
            await idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await idle.readResponse().status == 200)
            let answered = clock.now
            #expect(await idle.waitForClose(within: .seconds(3)))
            let idled = answered.duration(to: clock.now)
            #expect(idled >= .milliseconds(780) && idled < .milliseconds(1_500), "\(idled)")
        }
    }

    @Test("a client that stops reading a response is closed the request timeout after its first byte")
    func slowReader() async throws {
        let size = 16 << 20
        try await Self.serving(
            Self.short, routes: ["GET /big": { _ in HTTPResponse(contentType: "application/octet-stream", body: [UInt8](repeating: 7, count: size)) }]
        ) { port, _ in
            let reader = try await RawHTTPConnection.open(port: port)
            await reader.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            try await Task.sleep(for: .milliseconds(1_500))
            let (bytes, closed) = await reader.drain(within: .seconds(5))
            #expect(closed && bytes < size, "\(bytes) bytes, closed \(closed)")
            #expect(try await TestSocket.get(port: port, path: "/healthz").status == 200)
        }
    }

    @Test("a wrong method gets a JSON 405, a body over the limit a 413")
    func methodAndBody() async throws {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1_000
        try await Self.serving(limits) { port, _ in
            let (post, _) = try await HostileHTTPClientTests.exchange(
                port: port, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
            #expect(post.status == 405 && post.headers["allow"] == "GET" && HostileHTTPClientTests.isJSONError(post), "\(post)")
            let (big, _) = try await HostileHTTPClientTests.exchange(
                port: port, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + String(repeating: "b", count: 2_000))
            #expect(big.status == 413 && HostileHTTPClientTests.isJSONError(big), "\(big)")
        }
    }

    @Test(
        "at the connection cap the oldest connection not being answered makes room, so a client holding connections cannot keep a probe out; a new one is closed only while every open one is being answered; graceful shutdown closes idle connections at once"
    )
    func capAndShutdown() async throws {
        var limits = HTTPLimits()
        limits.maxConnections = 2
        let routes: [String: HTTPService.Route] = [
            "GET /slow": { _ in
                try? await Task.sleep(for: .milliseconds(1_500))
                return .text(200, "slow")
            }
        ]
        try await Self.serving(limits, routes: routes) { port, group in
            let first = try await RawHTTPConnection.open(port: port)
            await first.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await first.readResponse().status == 200)
            let second = try await RawHTTPConnection.open(port: port)
            await second.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await second.readResponse().status == 200)
            // Both idle: a third (a probe) gets in, and the oldest makes room.
            let third = try await RawHTTPConnection.open(port: port)
            await third.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await third.readResponse().status == 200)
            #expect(await first.waitForClose(within: .seconds(2)))
            await second.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await second.readResponse().status == 200, "the newer idle connection stays")
            // Both being answered: a fourth is closed, and the two are answered all the same.
            await second.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            await third.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            try await Task.sleep(for: .milliseconds(200))
            let fourth = try await RawHTTPConnection.open(port: port)
            #expect(await fourth.waitForClose(within: .seconds(1)))
            #expect(try await second.readResponse().status == 200)
            #expect(try await third.readResponse().status == 200)

            let clock = ContinuousClock()
            let started = clock.now
            await group.triggerGracefulShutdown()
            #expect(await second.waitForClose(within: .seconds(1)))
            #expect(await third.waitForClose(within: .seconds(1)))
            #expect(started.duration(to: clock.now) < .seconds(1))
        }
    }
}
