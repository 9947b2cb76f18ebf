/// Scoped fixtures: what a test starts, it stops on every path, thrown errors included.
extension WorkerScenario {
    /// Runs `body` with a new scenario, a worker started in it (`startWorker`) and a collector of
    /// `collect`'s topics (the output topic by default). Afterwards the collector is stopped and
    /// the worker killed if it still runs: a test that checks a graceful stop signals it itself.
    static func withWorker(
        _ label: String, id: String = "w1", env: [String: String] = [:], config: String? = nil,
        collect topics: (WorkerScenario) -> [String] = { [$0.outputTopic] },
        _ body: (WorkerScenario, WorkerProcessHandle, OutputCollector) async throws -> Void
    ) async throws {
        let s = try await WorkerScenario(label)
        try await s.withWorker(id: id, env: env, config: config) { worker in
            try await s.withCollector(topics(s)) { out in try await body(s, worker, out) }
        }
    }

    /// Runs `body` with a worker started in this scenario (`startWorker`), killed afterwards on
    /// every path if it still runs.
    func withWorker(
        id: String = "w1", env: [String: String] = [:], config: String? = nil, _ body: (WorkerProcessHandle) async throws -> Void
    ) async throws {
        let worker = try await startWorker(id: id, env: env, config: config)
        try await withCleanup({ await worker.kill9() }) { try await body(worker) }
    }

    /// Runs `body` with a collector of `topics`, stopped afterwards on every path.
    func withCollector(_ topics: [String], _ body: (OutputCollector) async throws -> Void) async throws {
        let out = try await collect(topics)
        try await withCleanup({ await out.stop() }) { try await body(out) }
    }
}

/// Runs `body`, then `cleanup` whether or not it threw, then rethrows what it threw.
func withCleanup(_ cleanup: () async -> Void, _ body: () async throws -> Void) async throws {
    let result: Result<Void, any Error>
    do { result = .success(try await body()) } catch { result = .failure(error) }
    await cleanup()
    try result.get()
}
