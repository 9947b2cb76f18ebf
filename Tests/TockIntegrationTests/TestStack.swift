import Foundation

/// The real Redis and broker the integration tests talk to.
///
/// `scripts/test` starts the stack and exports `TOCK_TEST_REDIS_URL`, `TOCK_TEST_KAFKA_BROKERS`
/// and `TOCK_TEST_STACK`. A bare `swift test` starts one itself through `scripts/stack`.
struct TestStack: Sendable {
    let name: String
    let redisURL: String
    let kafkaBrokers: String

    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let shared: TestStack = {
        let env = ProcessInfo.processInfo.environment
        if let redis = env["TOCK_TEST_REDIS_URL"], let kafka = env["TOCK_TEST_KAFKA_BROKERS"] {
            return TestStack(name: env["TOCK_TEST_STACK"] ?? "test", redisURL: redis, kafkaBrokers: kafka)
        }
        let name = "swift-test"
        let output = runStackScript(["start", name])
        var redis = "", kafka = ""
        for line in output.split(separator: "\n") {
            if line.hasPrefix("export TOCK_REDIS_URL=") { redis = String(line.dropFirst("export TOCK_REDIS_URL=".count)) }
            if line.hasPrefix("export TOCK_KAFKA_BROKERS=") { kafka = String(line.dropFirst("export TOCK_KAFKA_BROKERS=".count)) }
        }
        precondition(!redis.isEmpty && !kafka.isEmpty, "scripts/stack start printed no TOCK_* env:\n\(output)")
        return TestStack(name: name, redisURL: redis, kafkaBrokers: kafka)
    }()

    /// Restarts Redis in place (same port, same AOF), as an operator or a crash would.
    func restartRedis() {
        _ = Self.runStackScript(["restart-redis", name])
    }

    /// A name no other test uses: for key prefixes, topics and group ids.
    static func unique(_ label: String) -> String {
        "\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs scripts/stack on the calling thread (`ChildProcess`): it needs no run loop, so a
    /// first use from several tests at once (Swift Testing runs them in parallel on the
    /// cooperative pool) cannot starve the pool the way `Process.waitUntilExit` can. (`Process`
    /// would not do anyway: the daemons the script starts inherit the socket through which
    /// Foundation learns that its child exited.)
    @discardableResult
    static func runStackScript(_ arguments: [String]) -> String {
        let (status, output) = runStackScriptReturningStatus(arguments)
        precondition(status == 0, "scripts/stack \(arguments.joined(separator: " ")) failed with status \(status)")
        return output
    }

    /// Runs scripts/stack as `runStackScript` does; returns its exit status and its standard
    /// output, and its standard error too when `mergingStandardError`.
    static func runStackScriptReturningStatus(_ arguments: [String], mergingStandardError: Bool = false) -> (status: Int32, output: String) {
        ChildProcess.run([repositoryRoot.appendingPathComponent("scripts/stack").path] + arguments, mergingStandardError: mergingStandardError)
    }
}

/// A Redis and broker of one test's own (`scripts/stack`), for a test that stalls, kills or
/// restarts them: doing that to the shared stack would disturb every other test.
struct OwnStack: Sendable {
    let name: String
    let redisURL: String
    let brokers: String

    static func start(_ label: String) async throws -> OwnStack {
        let name = TestStack.unique(label)
        let output = await stackThread.run { TestStack.runStackScript(["start", name]) }
        func exported(_ variable: String) -> String? {
            output.split(separator: "\n").first { $0.hasPrefix("export \(variable)=") }.map { String($0.dropFirst("export \(variable)=".count)) }
        }
        guard let redis = exported("TOCK_REDIS_URL"), let brokers = exported("TOCK_KAFKA_BROKERS") else {
            _ = TestStack.runStackScriptReturningStatus(["stop", name])
            throw HarnessError("scripts/stack start \(name) printed no TOCK_* env:\n\(output)")
        }
        return OwnStack(name: name, redisURL: redis, brokers: brokers)
    }

    /// The broker's process id, from the stack's pid file (it changes when the broker restarts).
    func kafkaPID() throws -> Int32 {
        let file = TestStack.repositoryRoot.appendingPathComponent(".run/\(name)/kafka.pid")
        let text = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text) else { throw HarnessError("\(file.path) holds no pid: \(text)") }
        return pid
    }

    /// Starts what of the stack is not running (a killed broker comes back on its port).
    func startAgain() async { _ = await stackThread.run { TestStack.runStackScript(["start", name]) } }

    /// Synchronous, for a `defer`.
    func stop() { _ = TestStack.runStackScriptReturningStatus(["stop", name]) }
}
