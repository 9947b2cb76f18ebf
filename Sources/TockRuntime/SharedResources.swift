import ServiceLifecycle
import Synchronization

/// What a process's services share (Redis clients, producers), closed by the `ServiceGroup`: first
/// in the group, it is the last to shut down, and closes what was added to it, newest first, once
/// every other service has stopped. A group cancelled (a service failed) closes nothing: the
/// process is ending, and a service may still be using them.
public final class SharedResources: Service, Sendable {
    private let closers = Mutex<[(name: String, close: @Sendable () async -> Void)]>([])

    public init() {}

    /// Registers something to close at shutdown.
    public func add(_ name: String, close: @escaping @Sendable () async -> Void) {
        closers.withLock { $0.append((name, close)) }
    }

    public func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        for closer in closers.withLock({ $0 }).reversed() { await closer.close() }
    }
}
