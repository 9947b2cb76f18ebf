import Foundation
import Testing
import TockStore

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

extension WorkerScenario {
    /// Runs `body` with a new scenario, a collector of its output topic, its store and a worker
    /// started in it (`startWorker`), made in that order. Afterwards the worker is killed if it
    /// still runs and the collector stopped (a second stop does nothing).
    static func withCollectorStoreAndWorker(
        _ label: String, id: String = "w1", env: [String: String] = [:],
        _ body: (WorkerScenario, OutputCollector, ScheduleStore, WorkerProcessHandle) async throws -> Void
    ) async throws {
        let s = try await WorkerScenario(label)
        try await s.withCollector([s.outputTopic]) { out in
            let store = try await s.store()
            try await s.withWorker(id: id, env: env) { worker in try await body(s, out, store, worker) }
        }
    }

    /// `withWorker` (a scenario, a worker, a collector of `collect`'s topics) with the scenario's
    /// store, made once they are. When `body` returns, the store's client is closed and the worker
    /// stopped with SIGTERM, which it must exit 0 on.
    static func withWorkerAndStore(
        _ label: String, id: String = "w1", collect topics: (WorkerScenario) -> [String] = { [$0.outputTopic] },
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (WorkerScenario, WorkerProcessHandle, OutputCollector, ScheduleStore) async throws -> Void
    ) async throws {
        try await withWorker(label, id: id, collect: topics) { s, worker, out in
            let store = try await s.store()
            try await body(s, worker, out, store)
            await store.client.close()
            await worker.expectCleanExit(sourceLocation: sourceLocation)
        }
    }
}

extension WorkerProcessHandle {
    /// How a test that passed ends: `out` stops collecting, then this worker is stopped with
    /// SIGTERM, which it must exit 0 on.
    func expectCleanStop(after out: OutputCollector, sourceLocation: SourceLocation = #_sourceLocation) async {
        await out.stop()
        await expectCleanExit(sourceLocation: sourceLocation)
    }
}

extension OwnStack {
    /// Runs `body` with a Redis and broker of a test's own (`start`), the broker's process id, and
    /// a scenario on them, all named after `label`; the stack is stopped afterwards, whatever
    /// happened.
    static func withScenario(_ label: String, _ body: (OwnStack, Int32, WorkerScenario) async throws -> Void) async throws {
        let stack = try await start(label)
        defer { stack.stop() }
        let kafkaPID = try stack.kafkaPID()
        try await body(stack, kafkaPID, try await WorkerScenario(label, redisURL: stack.redisURL, brokers: stack.brokers))
    }
}
