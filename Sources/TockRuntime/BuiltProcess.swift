import Logging
import ServiceLifecycle

/// A process built from its configuration and not yet running (hummingbird's
/// `buildApplication`): its `ServiceGroup`, shared resources first so that they close last.
/// Tests build one and run it in-process; the executables build and `run()`.
public protocol BuiltProcess: Sendable {
    /// What the process is called in its last log line: "worker", "monitor".
    static var kind: String { get }
    var group: ServiceGroup { get }
    var logger: Logger { get }
}

extension BuiltProcess {
    /// Runs the group until graceful shutdown (SIGTERM, or `group.triggerGracefulShutdown()`).
    public func run() async throws {
        try await group.run()
        logger.info("\(Self.kind) stopped")
    }
}
