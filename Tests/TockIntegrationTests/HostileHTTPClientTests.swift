import Foundation
import Synchronization
import Testing
import TockConcurrency
import TockCore
import TockMonitorKit

#if canImport(Glibc)
    import Glibc
#endif

/// SPEC "Processes": no HTTP client can slow firing or other clients. A request line over 8 KiB
/// gets 414, headers over 16 KiB get 431, a connection that has not sent a whole request within
/// 10 s or sits idle for 60 s is closed; a malformed path gets a JSON 400 or 404; the server
/// listens on `http.host` (default 127.0.0.1). Against real `tock-worker` and `tock-monitor`
/// processes (issue 25 item 5 and item 6 "Malformed paths").
@Suite(.serialized) struct HostileHTTPClientTests {
    /// `GET <path> HTTP/1.1` padded with a query to exactly `length` bytes (without its CRLF).
    static func requestLine(_ path: String, length: Int) -> String {
        let bare = "GET \(path)? HTTP/1.1"
        return "GET \(path)?\(String(repeating: "q", count: max(0, length - bare.utf8.count))) HTTP/1.1"
    }

    /// Header lines of exactly `bytes` bytes in all, each with its CRLF (the final empty line not
    /// counted); at least 44 bytes.
    static func headerLines(bytes: Int) -> String {
        var lines = "Host: 127.0.0.1\r\nConnection: close\r\n"
        while lines.utf8.count < bytes {
            // "X-F: " and CRLF take 7 bytes; the last header takes what is left (at least 8).
            let room = bytes - lines.utf8.count
            let size = room >= 1_008 ? 1_000 : room
            lines += "X-F: \(String(repeating: "f", count: size - 7))\r\n"
        }
        return lines
    }

    /// Sends `text` on a new connection and reads the response.
    static func exchange(port: UInt16, _ text: String, within: Duration = .seconds(5)) async throws -> (TestSocket.Response, Duration) {
        let started = ContinuousClock.now
        let connection = try await RawHTTPConnection.open(port: port)
        defer { connection.shutDown() }
        await connection.send(text)
        let response = try await connection.readResponse(within: within)
        return (response, started.duration(to: .now))
    }

    static func isJSONError(_ response: TestSocket.Response) -> Bool {
        guard response.headers["content-type"]?.hasPrefix("application/json") == true,
            let object = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        else { return false }
        return object["error"] is String
    }

    @Test("a request line over 8 KiB gets 414 and headers over 16 KiB get 431, on a worker and on a monitor, at once")
    func limits() async throws {
        let s = try await WorkerScenario("http-limits")
        let (worker, workerPort) = try await s.startWorkerOnFreePort()
        defer { kill(worker.process.processIdentifier, SIGKILL) }
        let monitor = try await s.startMonitor()
        defer { kill(monitor.process.process.processIdentifier, SIGKILL) }

        for (name, port) in [("worker", workerPort), ("monitor", monitor.httpPort)] {
            let end = "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            let (fits, _) = try await Self.exchange(port: port, Self.requestLine("/healthz", length: 8_192) + end)
            #expect(fits.status == 200, "\(name): a request line of 8192 bytes is allowed: \(fits.status)")
            let (long, longTook) = try await Self.exchange(port: port, Self.requestLine("/healthz", length: 8_193) + end)
            #expect(long.status == 414 && Self.isJSONError(long), "\(name): 8193 bytes: \(long.status) \(long.body.prefix(200))")
            print("[http-limits] \(name): 8193-byte request line → \(long.status) in \(longTook)")

            let (huge, hugeTook) = try await Self.exchange(port: port, Self.requestLine("/healthz", length: 150_000) + end)
            #expect(huge.status == 414, "\(name): 150 KB request line: \(huge.status)")
            #expect(hugeTook < .seconds(1), "\(name): the 414 for a 150 KB line took \(hugeTook)")
            print("[http-limits] \(name): 150 KB request line → \(huge.status) in \(hugeTook)")

            let (headersFit, _) = try await Self.exchange(port: port, "GET /healthz HTTP/1.1\r\n" + Self.headerLines(bytes: 16_384) + "\r\n")
            #expect(headersFit.status == 200, "\(name): 16384 bytes of headers are allowed: \(headersFit.status)")
            let (tooMany, tooManyTook) = try await Self.exchange(
                port: port, "GET /healthz HTTP/1.1\r\n" + Self.headerLines(bytes: 16_385) + "\r\n")
            #expect(tooMany.status == 431 && Self.isJSONError(tooMany), "\(name): 16385 bytes of headers: \(tooMany.status)")
            print("[http-limits] \(name): 16385 bytes of headers → \(tooMany.status) in \(tooManyTook)")
            let (megabyte, megabyteTook) = try await Self.exchange(
                port: port, "GET /healthz HTTP/1.1\r\n" + Self.headerLines(bytes: 1_000_000) + "\r\n")
            #expect(megabyte.status == 431 && megabyteTook < .seconds(1), "\(name): 1 MB of headers: \(megabyte.status) in \(megabyteTook)")

            let health = try await TestSocket.get(port: port, path: "/healthz")
            #expect(health.status == 200, "\(name) still answers")
        }
    }

    @Test("a client that never finishes its request is closed after 10 s, an idle keep-alive connection after 60 s")
    func slowAndIdleConnectionsAreClosed() async throws {
        let s = try await WorkerScenario("http-slow")
        let (worker, port) = try await s.startWorkerOnFreePort()
        defer { kill(worker.process.processIdentifier, SIGKILL) }
        let clock = ContinuousClock()

        // Three at once: silent from the start, a header a second forever, idle after one response.
        async let silent: Duration? = {
            let connection = try await RawHTTPConnection.open(port: port)
            let opened = clock.now
            return await connection.waitForClose(within: .seconds(20)) ? opened.duration(to: clock.now) : nil
        }()
        async let trickle: Duration? = {
            let connection = try await RawHTTPConnection.open(port: port)
            let opened = clock.now
            await connection.send("GET /healthz HTTP/1.1\r\n")
            // A header a second; between them, watch for the close (the server sends nothing else).
            for index in 0..<20 {
                if await connection.waitForClose(within: .seconds(1)) { return opened.duration(to: clock.now) }
                guard await connection.send("X-Slow-\(index): 1\r\n") else { break }
            }
            return await connection.waitForClose(within: .milliseconds(100)) ? opened.duration(to: clock.now) : nil
        }()
        async let idle: (Int, Duration?) = {
            let connection = try await RawHTTPConnection.open(port: port)
            await connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let response = try await connection.readResponse()
            let answered = clock.now
            return (response.status, await connection.waitForClose(within: .seconds(75)) ? answered.duration(to: clock.now) : nil)
        }()
        // Meanwhile every other client is served.
        var slowestProbe = Duration.zero
        for _ in 0..<10 {
            let started = clock.now
            #expect(try await TestSocket.get(port: port, path: "/healthz").status == 200)
            slowestProbe = max(slowestProbe, started.duration(to: clock.now))
            try await Task.sleep(for: .milliseconds(500))
        }

        let (silentAfter, trickleAfter, (idleStatus, idleAfter)) = try await (silent, trickle, idle)
        print(
            "[http-slow] silent closed after \(String(describing: silentAfter)), trickling after \(String(describing: trickleAfter)), "
                + "idle keep-alive after \(String(describing: idleAfter)); slowest /healthz meanwhile \(slowestProbe)")
        #expect(silentAfter.map { $0 >= .milliseconds(9_500) && $0 <= .seconds(12) } == true)
        #expect(trickleAfter.map { $0 >= .milliseconds(9_500) && $0 <= .seconds(12) } == true)
        #expect(idleStatus == 200)
        #expect(idleAfter.map { $0 >= .milliseconds(59_500) && $0 <= .seconds(63) } == true)
        #expect(slowestProbe < .seconds(1))
    }

    @Test("a malformed path gets a JSON 400, an unknown one a JSON 404; /v1/messages still takes encoded ids")
    func malformedPaths() async throws {
        let s = try await WorkerScenario("http-paths")
        let monitor = try await s.startMonitor()
        defer { kill(monitor.process.process.processIdentifier, SIGKILL) }
        let port = monitor.httpPort
        for path in ["/v1/messages/%ff%fe", "/v1/messages/%zz", "/v1/messages/abc%", "/v1/messages/a%00b", "/%ff", "/v1/cluster%"] {
            let (response, _) = try await Self.exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.status == 400 && Self.isJSONError(response), "\(path): \(response.status) \(response.body.prefix(120))")
        }
        for path in ["/nope", "/v1/nope", "/v1/cluster/x", "//v1/cluster"] {
            let (response, _) = try await Self.exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.status == 404 && Self.isJSONError(response), "\(path): \(response.status) \(response.body.prefix(120))")
        }
        let encoded = try await TestSocket.get(port: port, path: "/v1/messages/a%2Fb%3Dc")
        #expect(encoded.status == 200, "\(encoded.body)")
        #expect(try JSONDecoder().decode(MessageLookup.self, from: Data(encoded.body.utf8)).id == "a/b=c")
        #expect(try await TestSocket.get(port: port, path: "/").headers["content-type"]?.hasPrefix("text/html") == true)
    }

    @Test("the HTTP server listens on http.host: 127.0.0.1 by default, TOCK_HTTP_HOST elsewhere")
    func listensOnHTTPHost() async throws {
        let s = try await WorkerScenario("http-host")
        let (worker, port) = try await s.startWorkerOnFreePort()
        defer { kill(worker.process.processIdentifier, SIGKILL) }
        let listening = ChildProcess.run(["/usr/bin/ss", "-ltnH", "sport = :\(port)"]).output
        #expect(listening.contains("127.0.0.1:\(port)") && !listening.contains("0.0.0.0:\(port)"), "\(listening)")

        // w1 holds the standalone lease, so w2 waits for it, serving HTTP meanwhile.
        let (other, otherPort) = try await s.startWorkerOnFreePort(id: "w2", env: ["TOCK_HTTP_HOST": "127.0.0.2"], waitReady: false)
        defer { kill(other.process.processIdentifier, SIGKILL) }
        try await other.waitForLog("HTTP listening", within: .seconds(30))
        let otherListening = ChildProcess.run(["/usr/bin/ss", "-ltnH", "sport = :\(otherPort)"]).output
        #expect(otherListening.contains("127.0.0.2:\(otherPort)"), "\(otherListening)")
        let there = try await RawHTTPConnection.open(port: otherPort, host: "127.0.0.2")
        await there.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await there.readResponse().status == 200)
        await #expect(throws: (any Error).self) { _ = try await RawHTTPConnection.open(port: otherPort, host: "127.0.0.1") }
    }
}
