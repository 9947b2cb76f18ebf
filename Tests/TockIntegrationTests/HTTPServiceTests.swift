import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import Testing
import TockConcurrency
import TockHTTP
import TockRuntime

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct HTTPServiceTests {
    private let logger = Logger.quiet("http-test")

    /// A service on `host`:`port` that is always ready, with the process's metrics.
    private func alwaysReady(host: String = "127.0.0.1", port: Int) -> HTTPService {
        HTTPService(host: host, port: port, metrics: TockMetrics.bootstrap(), readiness: { ReadinessReport(ready: true) }, logger: logger)
    }

    /// The error an always-ready service on `host`:`port` fails to run with (nil, and an issue, if
    /// it does not fail so).
    private func runFailure(host: String, port: Int, sourceLocation: SourceLocation = #_sourceLocation) async -> HTTPServiceError? {
        await #expect(throws: HTTPServiceError.self, sourceLocation: sourceLocation) { try await alwaysReady(host: host, port: port).run() }
    }

    @Test func servesMetricsHealthReadinessAndStopsOnGracefulShutdown() async throws {
        let metrics = TockMetrics.bootstrap()
        #expect(TockMetrics.bootstrap() === metrics)
        let port = try TestSocket.freePort()
        let readiness = Mutex(ReadinessReport(reasons: ["kafka: not connected", "redis: not connected"]))
        let service = HTTPService(
            host: "127.0.0.1",
            port: Int(port),
            metrics: metrics,
            readiness: { readiness.withLock { $0 } },
            extraRoutes: [
                "GET /v1/echo": { request in
                    .text(200, "echo \(request.path)")
                }
            ],
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await service.waitUntilListening(timeout: .seconds(30)) == port)

            Counter(label: "tock_test_http_requests_total", dimensions: [("result", "stored")]).increment(by: 3)
            Metrics.Timer(label: "tock_test_http_lateness_seconds").recordMilliseconds(3)

            let scrape = try await TestSocket.get(port: port, path: "/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let lines = scrape.body.split(separator: "\n").map(String.init)
            #expect(lines.contains(#"tock_test_http_requests_total{result="stored"} 3"#))
            // 3 ms lands above the 2.5 ms bucket and inside the 5 ms one.
            #expect(lines.contains(#"tock_test_http_lateness_seconds_bucket{le="0.0025"} 0"#))
            #expect(lines.contains(#"tock_test_http_lateness_seconds_bucket{le="0.005"} 1"#))
            #expect(lines.contains(#"tock_test_http_lateness_seconds_bucket{le="0.0005"} 0"#))

            let health = try await TestSocket.get(port: port, path: "/healthz")
            #expect(health.status == 200)
            #expect(health.body == "ok\n")

            let notReady = try await TestSocket.get(port: port, path: "/readyz")
            #expect(notReady.status == 503)
            #expect(notReady.body == "kafka: not connected\nredis: not connected\n")

            readiness.withLock { $0 = ReadinessReport(reasons: []) }
            let ready = try await TestSocket.get(port: port, path: "/readyz")
            #expect(ready.status == 200)
            #expect(ready.body == "ready\n")

            #expect(try await TestSocket.get(port: port, path: "/nope").status == 404)
            let echo = try await TestSocket.get(port: port, path: "/v1/echo")
            #expect(echo.status == 200)
            #expect(echo.body == "echo /v1/echo")

            let clock = ContinuousClock()
            let started = clock.now
            await group.triggerGracefulShutdown()
            try await tasks.next()
            #expect(clock.now - started < .seconds(1))
        }
        #expect(
            try await TestSocket.stopsAccepting(port: port),
            "port \(port) still accepts connections 1 s after shutdown: \(TestSocket.listeners(port: port))")
    }

    @Test func gracefulShutdownLetsAnInFlightRequestFinish() async throws {
        let port = try TestSocket.freePort()
        let entered = AsyncStream<Void>.makeStream()
        let service = HTTPService(
            host: "127.0.0.1",
            port: Int(port),
            metrics: TockMetrics.bootstrap(),
            readiness: {
                entered.continuation.yield()
                // A wait that cancellation cannot cut short, so a cancelled handler shows as 503.
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { done.resume() }
                }
                return Task.isCancelled ? ReadinessReport(reasons: ["cancelled"]) : ReadinessReport(ready: true)
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await service.waitUntilListening(timeout: .seconds(30))
            async let slow = TestSocket.get(port: port, path: "/readyz")
            var iterator = entered.stream.makeAsyncIterator()
            await iterator.next()
            await group.triggerGracefulShutdown()
            let response = try await slow
            #expect(response.status == 200)
            #expect(response.body == "ready\n")
            try await tasks.next()
        }
        #expect(
            try await TestSocket.stopsAccepting(port: port),
            "port \(port) still accepts connections 1 s after shutdown: \(TestSocket.listeners(port: port))")
    }

    @Test func portInUseFailsNamingTheAddress() async throws {
        let occupier = try TestSocket.listen()
        defer { close(occupier.fd) }
        let error = await runFailure(host: "127.0.0.1", port: Int(occupier.port))
        #expect(error?.kind == .listenFailed)
        #expect(error?.description.contains("127.0.0.1:\(occupier.port)") == true)
        #expect(error?.description.localizedCaseInsensitiveContains("in use") == true)
    }

    @Test func portZeroIsOffAndEndsOnGracefulShutdown() async throws {
        let service = alwaysReady(port: 0)
        #expect(!service.isEnabled)
        await #expect(throws: HTTPServiceError.self) { _ = try await service.waitUntilListening() }
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(50))
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
    }

    @Test func unresolvableHostFailsNamingTheAddress() async throws {
        let error = await runFailure(host: "no-such-host.invalid", port: 9464)
        #expect(error?.kind == .invalidAddress)
        #expect(error?.description.contains("no-such-host.invalid:9464") == true)
    }
}

/// Blocking POSIX sockets, each call on a thread of its own: the test must never block a thread
/// of the cooperative pool the server needs, and one slow request must not hold up another.
/// A plain-socket HTTP client and port helpers (also used by the worker end-to-end tests).
enum TestSocket {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingThread(name: "http-test-client").run(body)
    }

    #if canImport(Glibc)
        static let stream = Int32(SOCK_STREAM.rawValue)
    #else
        static let stream = SOCK_STREAM
    #endif

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func withSockaddr<T>(_ address: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// A socket listening on an ephemeral loopback port.
    static func listen() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, stream, 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        guard withSockaddr(loopback(port: 0), { bind(fd, $0, $1) }) == 0, Glibc.listen(fd, 16) == 0 else {
            close(fd)
            throw Failure(description: "bind/listen: errno \(errno)")
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: bound.sin_port))
    }

    /// A port in `range` that nothing listens on right now (below the kernel's ephemeral range
    /// by default, so no client socket takes it before the process under test binds it).
    static func freePort(in range: ClosedRange<UInt16>) throws -> UInt16 {
        for _ in 0..<200 {
            let port = UInt16.random(in: range)
            let fd = socket(AF_INET, stream, 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            defer { close(fd) }
            if withSockaddr(loopback(port: port), { bind(fd, $0, $1) }) == 0 { return port }
        }
        throw Failure(description: "no free port in \(range)")
    }

    /// A loopback port nothing listens on right now: a random one below the ephemeral range, not
    /// the kernel's pick. The kernel hands a port one test just closed to the next test that
    /// asks, and a test checking that its server stopped accepting would find that server there.
    static func freePort() throws -> UInt16 {
        try freePort(in: 20_000...32_000)
    }

    /// Whether the port refuses connections within a second: the listening socket closes as the
    /// server task unwinds, a moment after `run()` returned.
    /// What `ss` says listens on `port`, with the owning process: for a failure message.
    static func listeners(port: UInt16) -> String {
        guard let pipe = popen("ss -ltnpH 'sport = :\(port)' 2>&1; ss -tnpH 'dport = :\(port)' 2>&1 | head -5", "r") else { return "?" }
        var output = [UInt8](repeating: 0, count: 4096)
        let count = fread(&output, 1, output.count, pipe)
        pclose(pipe)
        return String(decoding: output.prefix(max(0, count)), as: UTF8.self)
    }

    static func stopsAccepting(port: UInt16) async throws -> Bool {
        for _ in 0..<20 {
            if try await !accepts(port: port) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    static func accepts(port: UInt16) async throws -> Bool {
        try await onThread {
            let fd = socket(AF_INET, stream, 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            defer { close(fd) }
            return withSockaddr(loopback(port: port)) { connect(fd, $0, $1) } == 0
        }
    }

    /// One HTTP/1.1 GET with `Connection: close`; reads the response until the server closes.
    static func get(port: UInt16, path: String) async throws -> Response {
        try await request(port: port, method: "GET", path: path)
    }

    /// One HTTP/1.1 request with `Connection: close` (and `Content-Length` when there is a body);
    /// reads the response until the server closes.
    static func request(port: UInt16, method: String, path: String, headers: [String: String] = [:], body: [UInt8] = []) async throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || ["POST", "PATCH", "PUT"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        return try await onThread {
            let fd = socket(AF_INET, stream, 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            defer { close(fd) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            guard withSockaddr(loopback(port: port), { connect(fd, $0, $1) }) == 0 else {
                throw Failure(description: "connect to \(port): errno \(errno)")
            }
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
                throw Failure(description: "send: errno \(errno)")
            }
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count == 0 { break }
                guard count > 0 else { throw Failure(description: "recv: errno \(errno)") }
                received.append(contentsOf: chunk[0..<count])
            }
            return try parse(String(decoding: received, as: UTF8.self))
        }
    }

    static func parse(_ text: String) throws -> Response {
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no header end in \(text.debugDescription)") }
        let head = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(description: "bad status line \(head[0].debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = String(text[split.upperBound...])
        if let length = headers["content-length"].flatMap(Int.init), body.utf8.count > length {
            body = String(decoding: body.utf8.prefix(length), as: UTF8.self)
        }
        return Response(status: status, headers: headers, body: body)
    }
}
