import Foundation

/// One run of a command-line program (`tock` by default) as a real process: its exit status and
/// what it printed. Not for programs that leave daemons behind (see `TestStack.runStackScript`).
struct CLIRun: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Runs `executable arguments` with `environment` (every `TOCK_*` of the test's own
    /// environment removed first) and waits for it, polling: `waitUntilExit` could block a thread
    /// of the cooperative pool that the test's in-process servers need.
    static func run(
        _ arguments: [String], executable: URL = WorkerProcessHandle.binary("tock"), environment: [String: String] = [:],
        within: Duration = .seconds(60)
    ) async throws -> CLIRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tock-cli-\(TestStack.unique("run"))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("TOCK_") { env.removeValue(forKey: key) }
        env.merge(environment) { _, new in new }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = env
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: within)
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                throw HarnessError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish within \(within)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CLIRun(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
