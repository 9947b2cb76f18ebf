import Foundation
import Logging
import Testing
import TockCore
import TockRedis
import TockRuntime
import TockStore
import TockWorkerKit

/// The worker built by `WorkerProcess.buildWorker` and run in this process, against the real Redis
/// and broker: the build is separate from the run, and the service group alone starts and stops it.
@Suite("A worker built and run in-process")
struct InProcessWorkerTests {
    @Test("built, then run: each request is published once, never early; a graceful shutdown hands the wheel back and the run returns")
    func buildThenRun() async throws {
        let s = try await WorkerScenario("in-process")
        let configuration = try TockConfiguration.load(
            path: nil, defaultPath: "/nonexistent/tock.yaml", environment: s.environment(workerID: "in-process"))
        let worker = try await WorkerProcess.buildWorker(
            configuration: configuration, logger: Logger(label: "in-process"), handlesSignals: false)
        let out = try await s.collect([s.outputTopic])
        // The worker's own Redis clients are closed when its run returns: the checks use their own.
        let store = try await s.store()
        let now = WorkerScenario.now
        let dues = (0..<20).map { now + 3_000 + Int64($0) * 50 }
        // Due within the wheel's lookahead but after the test: claimed into the wheel, and handed
        // back on shutdown.
        let later = now + 25_000
        let ran = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            try await s.send(dues.indices.map { s.request(id: "ip-\($0)", at: dues[$0]) } + [s.request(id: "later", at: later)])
            let arrivals = await out.wait(for: dues.count, on: s.outputTopic, within: .seconds(30))
            await out.catchUp(on: s.outputTopic)
            let summary = DeliverySummary(out.on(s.outputTopic), expected: Set(dues.indices.map { "ip-\($0)" })) { $0.header("tock-id") }
            #expect(arrivals.count >= dues.count && summary.missing.isEmpty && summary.duplicates.isEmpty && summary.early.isEmpty, "\(summary)")
            try await waitUntil("every shard is claimed ahead (the later one is in the wheel)", within: .seconds(10)) {
                try await Self.claimedShards(store) == Array(0..<8)
            }
            let asked = ContinuousClock.now
            await worker.group.triggerGracefulShutdown()
            try await group.next()
            return ContinuousClock.now - asked
        }
        #expect(ran < .seconds(10), "the run returned \(ran) after graceful shutdown was asked for")
        #expect(try await Self.claimedShards(store).isEmpty, "the wheel was handed back: no shard is claimed ahead")
        #expect(try await s.storedMessageCount(store) == 1, "the later message is still stored")
        await out.stop()
    }

    /// Shards whose owner has a claimed-up-to time (its wheel holds part of the queue).
    static func claimedShards(_ store: ScheduleStore) async throws -> [Int] {
        let commands = (0..<8).map { RawRedisCommand(["HEXISTS", RedisArgument(store.keys.owner($0)), "claimed"]) as any RedisCommand }
        return try await store.client.pipeline(commands, idempotent: true).enumerated().compactMap { shard, reply in
            try reply.get() == .integer(1) ? shard : nil
        }
    }
}
