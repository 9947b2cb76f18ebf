import Foundation
import Testing
import TockRedis

/// `scripts/stack` itself: a stack of its own, started and stopped by the script.
@Suite("scripts/stack")
struct StackScriptTests {
    /// Whether `pid` is a live process (not gone, not a zombie waiting for its reaper).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The state follows the parenthesised command name.
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    @Test("stop ends a Redis that was given a password while running (SHUTDOWN is refused with NOAUTH)")
    func stopEndsPasswordProtectedRedis() async throws {
        let name = TestStack.unique("stack-stop")
        let started = await stackThread.run { TestStack.runStackScriptReturningStatus(["start", name]) }
        try #require(started.status == 0, "\(started.output)")
        let directory = TestStack.repositoryRoot.appendingPathComponent(".run/\(name)")
        let pidText = try String(contentsOf: directory.appendingPathComponent("redis.pid"), encoding: .utf8)
        let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        // What the stop did not end, the test does: the process is this test's.
        defer { if Self.isRunning(pid) { kill(pid, SIGKILL) } }
        let url = try #require(
            started.output.split(separator: "\n").first { $0.hasPrefix("export TOCK_REDIS_URL=") }?
                .dropFirst("export TOCK_REDIS_URL=".count))

        let redis = try RedisClient(url: String(url))
        _ = try await redis.send(RawRedisCommand("CONFIG", "SET", "requirepass", "s3cret"), as: String.self)
        await redis.close()

        let stopped = await stackThread.run { TestStack.runStackScriptReturningStatus(["stop", name], mergingStandardError: true) }
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(!Self.isRunning(pid), "redis (pid \(pid)) still runs after scripts/stack stop: \(stopped.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
