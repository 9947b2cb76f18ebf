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
