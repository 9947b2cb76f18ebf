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
        let worker = try await s.startWorker(id: id, env: env, config: config)
        let out: OutputCollector
        do { out = try await s.collect(topics(s)) } catch {
            await worker.kill9()
            throw error
        }
        let result: Result<Void, any Error>
        do { result = .success(try await body(s, worker, out)) } catch { result = .failure(error) }
        await out.stop()
        await worker.kill9()
        try result.get()
    }
}

extension WorkerScenario {
    /// Runs `body` with a worker started in this scenario (`startWorker`), killed afterwards on
    /// every path if it still runs.
    func withWorker(
        id: String = "w1", env: [String: String] = [:], config: String? = nil, _ body: (WorkerProcessHandle) async throws -> Void
    ) async throws {
        let worker = try await startWorker(id: id, env: env, config: config)
        let result: Result<Void, any Error>
        do { result = .success(try await body(worker)) } catch { result = .failure(error) }
        await worker.kill9()
        try result.get()
    }
}
