import Foundation
import Testing
import TockRedis

#if canImport(Glibc)
import Glibc
#endif

/// A redis-server of a test's own, on a free port, with AOF and `appendfsync always` like the
/// stack's. Tests that restart Redis or flush its script cache use one, so that they never
/// disturb tests running in parallel against the shared stack.
final class RedisTestServer: @unchecked Sendable {
    let port: Int
    let directory: URL
    private let extraArguments: [String]
    private let lock = NSLock()
    private var process: Process?

    var url: String { "redis://127.0.0.1:\(port)" }

    private init(port: Int, directory: URL, extraArguments: [String]) {
        self.port = port
        self.directory = directory
        self.extraArguments = extraArguments
    }

    /// Starts a server; pair it with `defer { server.stop() }`.
    static func start(_ extraArguments: [String] = []) async throws -> RedisTestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestStack.unique("tock-redis-test"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = RedisTestServer(port: try freePort(), directory: directory, extraArguments: extraArguments)
        try await server.launch()
        return server
    }

    func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "redis-server", "--bind", "127.0.0.1", "--port", "\(port)", "--dir", directory.path,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no",
            "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        try await waitUntilReady()
    }

    /// Kills the server the hard way (as a crash would) and starts it again on the same port and AOF.
    func restart() async throws {
        kill()
        try await launch()
    }

    /// SIGKILL, like a crash: whatever `appendfsync always` acknowledged must survive.
    func kill() {
        guard let process = lock.withLock({ self.process.take() }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    private func waitUntilReady() async throws {
        let probe = RedisConnection(configuration: .init(
            url: RedisURL(host: "127.0.0.1", port: port),
            connectTimeout: .milliseconds(200), commandTimeout: .milliseconds(500),
            reconnectBackoff: .milliseconds(20), maxReconnectBackoff: .milliseconds(50)
        ))
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            do {
                _ = try await probe.send(PING())
                return
            } catch .server(let message) where message.hasPrefix("NOAUTH") {
                return  // up, and asking for a password as configured
            } catch {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        throw RedisError.connection("test redis-server on port \(port) did not start; see \(directory.path)/redis.log")
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

enum RedisTestScripts {
    static func load(_ name: String) throws -> RedisScript {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "lua", subdirectory: "Scripts"), "missing Scripts/\(name).lua")
        return try RedisScript(contentsOf: url)
    }
}

/// A key prefix no other test uses, with a hash tag so a test's keys would share a cluster slot.
func redisTestPrefix(_ label: String) -> String { "{\(TestStack.unique(label))}" }
