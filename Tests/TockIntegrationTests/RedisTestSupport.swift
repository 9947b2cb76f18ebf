import Foundation
import Testing
import TockConcurrency
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
    private var pid: pid_t?

    var url: String { "redis://127.0.0.1:\(port)" }

    private init(port: Int, directory: URL, extraArguments: [String]) {
        self.port = port
        self.directory = directory
        self.extraArguments = extraArguments
    }

    /// Starts a server; pair it with `defer { server.stop() }`.
    static func start(_ extraArguments: [String] = []) async throws -> RedisTestServer {
        var lastError: Error?
        // A port that was free a moment ago may be taken by the time redis-server binds it.
        for _ in 0..<5 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestStack.unique("tock-redis-test"))
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let server = RedisTestServer(port: try freePort(), directory: directory, extraArguments: extraArguments)
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError!
    }

    func launch() async throws {
        let arguments =
            [
                "redis-server", "--bind", "127.0.0.1", "--port", "\(port)", "--dir", directory.path,
                "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no",
                "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
            ] + extraArguments
        let pid = try Self.spawn(arguments)
        lock.withLock { self.pid = pid }
        try await waitUntilReady()
    }

    /// Kills the server the hard way (as a crash would) and starts it again on the same port and AOF.
    func restart() async throws {
        kill()
        try await launch()
    }

    /// SIGKILL, like a crash: whatever `appendfsync always` acknowledged must survive.
    func kill() {
        guard let pid = lock.withLock({ self.pid.take() }) else { return }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        // SIGKILL ends it at once, so this wait is short; it frees the port for a restart.
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// Sends `signal` to the server: SIGSTOP stalls it (connections stay open, nothing is
    /// answered), SIGCONT lets it go on with what it had read meanwhile.
    func signal(_ signal: Int32) {
        if let pid = lock.withLock({ self.pid }) { Glibc.kill(pid, signal) }
    }

    func stop() {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// posix_spawn rather than Foundation's Process: Process.waitUntilExit needs a free
    /// dispatch thread, which parallel tests on a 2-core machine may not leave; and the child
    /// must not inherit the calling worker thread's blocked signals.
    private static func spawn(_ arguments: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        ChildProcess.closeInheritedDescriptors(&actions)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = ChildProcess.withCleanSignals { attributes in posix_spawnp(&pid, "redis-server", &actions, &attributes, argv, environ) }
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .ENOENT) }
        return pid
    }

    private func waitUntilReady() async throws {
        let probe = RedisConnection(
            configuration: .init(
                url: RedisURL(host: "127.0.0.1", port: port),
                connectTimeout: .milliseconds(200), commandTimeout: .milliseconds(500),
                reconnectBackoff: .milliseconds(20), maxReconnectBackoff: .milliseconds(50)
            ))
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if let pid = lock.withLock({ self.pid }) {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    lock.withLock { self.pid = nil }
                    let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
                    throw RedisError.connection(
                        "test redis-server on port \(port) exited: \(log.split(separator: "\n").suffix(2).joined(separator: " / "))")
                }
            }
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

    /// A port below the kernel's ephemeral range (32768 and up by default), so that no client
    /// socket picks it as its local port, in particular while the server is down for a restart.
    private static func freePort() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_000)
            if canBind(port) { return port }
        }
        throw POSIXError(.EADDRINUSE)
    }

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
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

let stackThread = BlockingThread(name: "test-stack")

/// `TestStack.shared.redisURL`, resolved off the cooperative pool: the first access may run
/// `scripts/stack start` and wait for it, which must not hold one of the pool's few threads.
func sharedRedisURL() async -> String {
    await stackThread.run { TestStack.shared.redisURL }
}
