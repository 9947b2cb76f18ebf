import ServiceLifecycle

/// The part of a worker's start that may wait (for the standalone lease): it runs in the group
/// after HTTP, so `/readyz` answers meanwhile and SIGTERM ends the wait, and adds the services
/// that `start` built to the group. `start` returns nil when graceful shutdown came first.
struct WorkerStartup: Service {
    let group: ServiceGroup
    let start: @Sendable () async throws -> [any Service]?

    init(group: ServiceGroup, start: @escaping @Sendable () async throws -> [any Service]?) {
        self.group = group
        self.start = start
    }

    func run() async throws {
        guard let services = try await start() else { return }
        for service in services { await group.addServiceUnlessShutdown(service) }
    }
}
