import Foundation
import Logging
import Metrics
import ServiceLifecycle
import TockCore
import TockStore

/// Runs the cancels by tag (`TagCancelJob`) while this monitor leads: step by step, each step
/// one SSCAN of a shard's tagged ids and their cancel requests, written to the input topic and
/// acknowledged before the job's progress is saved. Paced by `api.tagCancelRate`.
public struct TagCancelService: Service {
    let store: ScheduleStore
    let writer: APIWriter
    let isLeading: @Sendable () -> Bool
    let clock: any WallClock
    let ratePerSecond: Int
    let logger: Logger
    /// Ids per SSCAN step.
    let stepSize = 1_000

    public init(
        store: ScheduleStore, writer: APIWriter, isLeading: @escaping @Sendable () -> Bool, clock: any WallClock, ratePerSecond: Int,
        logger: Logger
    ) {
        self.store = store
        self.writer = writer
        self.isLeading = isLeading
        self.clock = clock
        self.ratePerSecond = ratePerSecond
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var worked = false
            if isLeading() {
                do {
                    worked = try await runSteps()
                } catch {
                    logger.warning("cancel by tag: a step failed; it is tried again", metadata: ["error": "\(error)"])
                }
            }
            if !worked { try? await Task.sleep(for: .milliseconds(500)) }
        }
    }

    /// One step of every running job; whether there was any.
    func runSteps() async throws -> Bool {
        var worked = false
        for (id, text) in try await store.tagJobs().sorted(by: { $0.key < $1.key }) {
            guard isLeading(), var job = TagCancelJob.decode(text), job.state == .running, let next = job.next else { continue }
            let started = ContinuousClock.now
            let (cursor, ids) = try await store.taggedIDs(shard: next.shard, tag: job.tag, cursor: next.cursor, count: stepSize)
            if !ids.isEmpty { try await writer.writeAll(ids.map { APIRequestRecord.action(.cancel, id: $0) }) }
            job.advance(shard: next.shard, to: cursor, cancelled: ids.count, nowMillis: clock.nowMillis())
            try await store.saveTagJob(id, state: job.encoded)
            Counter(label: "tock_api_tag_cancels_total").increment(by: ids.count)
            if job.state == .done {
                logger.notice("cancel by tag done", metadata: ["job": "\(id)", "tag": "\(job.tag)", "cancelled": "\(job.cancelled)"])
            }
            worked = true
            // At most ratePerSecond cancels a second.
            let budget = Duration.milliseconds(ids.count * 1_000 / max(1, ratePerSecond))
            let spent = ContinuousClock.now - started
            if budget > spent { try? await Task.sleep(for: budget - spent) }
        }
        return worked
    }
}

extension TagCancelJob {
    static func decode(_ text: String) -> TagCancelJob? { try? JSONDecoder().decode(TagCancelJob.self, from: Data(text.utf8)) }

    var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
