import Foundation
import Testing
import TockCore
import TockKafka
import TockMonitorKit
import TockStore

/// The cold tier (SPEC "Tiered storage", docs/tiered-storage.md) end to end, through real
/// `tock-worker` processes on the real broker and Redis, with the rings shrunk to seconds: a
/// message due more than 3 s ahead is cold; hour slots are 2 s, day slots 10 s.
@Suite("Cold tier end to end, and through faults", .serialized)
struct ColdTierEndToEndTests {
    static let shrunkRings: [String: String] = [
        "TOCK_WHEEL_LOOKAHEAD": "1s",
        "TOCK_STORE_HOT_HORIZON": "3s",
        "TOCK_STORE_COLD_HOUR_SLOT": "2s",
        "TOCK_STORE_COLD_DAY_SLOT": "10s",
        "TOCK_LIMITS_MAX_HORIZON": "60s",
    ]

    /// The shrunk rings, on cold topics of the scenario's own.
    static func rings(_ s: WorkerScenario) -> [String: String] { shrunkRings.merging(["TOCK_STORE_COLD_TOPIC_PREFIX": "cold-\(s.name)"]) { $1 } }

    /// Runs `body` with a new scenario, a collector of its output topic, its store and a worker on
    /// the shrunk rings serving HTTP on a free port; the worker is killed afterwards if it still runs.
    static func withColdWorker(
        _ label: String, _ body: (WorkerScenario, OutputCollector, ScheduleStore, WorkerProcessHandle, UInt16) async throws -> Void
    ) async throws {
        let s = try await WorkerScenario(label)
        try await s.withCollector([s.outputTopic]) { out in
            let store = try await s.store()
            let (worker, port) = try await s.startWorkerOnFreePort(env: rings(s))
            try await withCleanup({ await worker.kill9() }) { try await body(s, out, store, worker, port) }
        }
    }

    @Test("cold messages of both rings are moved into the hot store and published once, never early; hot ones take today's path")
    func coldMessagesDelivered() async throws {
        try await Self.withColdWorker("cold") { s, out, store, worker, port in
            let now = WorkerScenario.now
            // 4 to 25 s ahead: the nearer ones straight into the hour ring, the rest into the
            // day ring, copied into the hour ring later.
            let cold = (0..<200).map { s.request(id: "c\($0)", at: now + 4_000 + Int64($0) * 105, key: "k\($0)", partition: Int32($0 % 4)) }
            let hot = (0..<20).map { s.request(id: "h\($0)", at: now + 2_000 + Int64($0) * 20, key: "k\($0)", partition: Int32($0 % 4)) }
            try await s.send(cold + hot)
            try await waitUntil("the far cold message is in the index", within: .seconds(10)) {
                try await store.status(of: "c199", nowMillis: WorkerScenario.now).state == .cold
            }
            #expect(try await store.status(of: "c199", nowMillis: WorkerScenario.now).scoreMillis == now + 4_000 + 199 * 105)
            let expected = Set((0..<200).map { "c\($0)" } + (0..<20).map { "h\($0)" })
            let (summary, _) = try await s.deliveredSummary(out, expected: expected, store: store, within: .seconds(40))
            print("[cold] \(summary)")
            #expect(summary.arrivals == 220)
            #expect(summary.duplicates.isEmpty, "\(summary)")
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(try await store.coldCounts().total == 0)
            let scrape = try await MetricsScrape.get(port: port)
            #expect(scrape.value("tock_cold_moved_total") == 200)
            #expect(scrape.value(#"tock_requests_total{result="cold"}"#) == 200)
            #expect((scrape.value("tock_cold_copied_total") ?? 0) > 0, "no message went through the day ring")
            #expect((scrape.value("tock_cold_moved_late_total") ?? 0) == 0)
            await store.client.close()
            await worker.expectCleanStop(after: out)
        }
    }

    @Test("cancel and reschedule across tiers, and messages just inside and just outside the hot horizon: each published once at its last due time")
    func cancelAndRescheduleAcrossTiers() async throws {
        try await Self.withColdWorker("cold-by-id") { s, out, store, worker, port in
            let now = WorkerScenario.now
            try await s.send([
                s.request(id: "cancelled", at: now + 12_000, partition: 0),
                s.request(id: "cold-cold", at: now + 20_000, partition: 0),
                s.request(id: "cold-hot", at: now + 20_000, partition: 0),
                s.request(id: "hot-cold", at: now + 2_900, partition: 0),
                s.request(id: "inside", at: now + 2_800, partition: 1),
                s.request(id: "outside", at: now + 3_300, partition: 1),
                s.request(id: "dup", at: now + 9_000, partition: 1),
            ])
            // At once: hot-cold must be rescheduled before its delivery is locked (a loaded run
            // that waited for the cold ones first read it too late, and published it at +2.9 s).
            try await s.send([
                s.request(id: "cancelled", action: "cancel", partition: 0),
                s.request(id: "cold-cold", at: now + 7_000, action: "reschedule", partition: 0),
                s.request(id: "cold-hot", at: now + 2_000, action: "reschedule", partition: 0),
                s.request(id: "hot-cold", at: now + 8_000, action: "reschedule", partition: 0),
                s.request(id: "dup", at: now + 9_500, value: Array("second".utf8), partition: 1),
            ])
            try await waitUntil("cold-cold is rescheduled in the index", within: .seconds(5)) {
                try await store.status(of: "cold-cold", nowMillis: WorkerScenario.now).scoreMillis == now + 7_000
            }
            // What /v1/messages/<id> answers (SPEC: state cold, with the due time).
            let lookup = try await MessageLookup.find("cold-cold", in: store, nowMillis: WorkerScenario.now)
            #expect(lookup.state == "cold" && lookup.dueMillis == now + 7_000)
            let expected: Set<String> = ["cold-cold", "cold-hot", "hot-cold", "inside", "outside", "dup"]
            let (summary, arrivals) = try await s.deliveredSummary(out, expected: expected, store: store, within: .seconds(30))
            print("[cold-by-id] \(summary)")
            #expect(summary.arrivals == expected.count, "\(summary)")
            #expect(summary.duplicates.isEmpty && summary.missing.isEmpty && summary.early.isEmpty, "\(summary)")
            let dues = Dictionary(arrivals.map { ($0.header("tock-id") ?? "", $0.header("tock-at") ?? "") }) { first, _ in first }
            #expect(dues["cold-cold"] == String(now + 7_000))
            #expect(dues["cold-hot"] == String(now + 2_000))
            #expect(dues["hot-cold"] == String(now + 8_000))
            #expect(arrivals.first { $0.header("tock-id") == "dup" }?.message.value == Array("v".utf8))
            #expect(try await store.status(of: "cancelled", nowMillis: WorkerScenario.now).state == .ended)
            #expect(try await store.coldCounts().total == 0)
            await store.client.close()
            await worker.expectCleanStop(after: out)
        }
    }

    /// 300 cold messages due 6 to 21 s ahead, one every 50 ms, spread over the input partitions.
    static func sendColdLoad(_ s: WorkerScenario, prefix: String) async throws -> Set<String> {
        let now = WorkerScenario.now
        let requests = (0..<300).map { s.request(id: "\(prefix)\($0)", at: now + 6_000 + Int64($0) * 50, key: "k\($0)", partition: Int32($0 % 4)) }
        try await s.send(requests)
        return Set((0..<300).map { "\(prefix)\($0)" })
    }

    /// Waits until the store holds `count` messages in either tier (a loaded machine may read the
    /// first ones late enough for them to be hot).
    static func waitStored(_ s: WorkerScenario, _ store: ScheduleStore, _ count: Int) async throws {
        try await waitUntil("\(count) messages stored, cold or hot", within: .seconds(20)) {
            try await store.coldCounts().total + s.storedMessageCount(store) >= count
        }
    }

    @Test(
        "a worker SIGKILLed while it moves cold messages, restarted: each published once, none early, none lost (slots whose window passed meanwhile are caught up)"
    )
    func sigkillMidMove() async throws {
        let s = try await WorkerScenario("cold-kill")
        try await s.withCollector([s.outputTopic]) { out in
            let store = try await s.store()
            let first = try await s.startWorker(env: Self.rings(s))
            let expected = try await Self.sendColdLoad(s, prefix: "k")
            try await Self.waitStored(s, store, expected.count)
            // Moves run from about 3 s after sending: kill the worker in the middle of them.
            try await Task.sleep(for: .seconds(6))
            let moved = try await store.coldCounts().total
            #expect(await first.signal(SIGKILL, waitUpTo: .seconds(5)) != nil)
            try await Task.sleep(for: .seconds(4))
            let (restarted, port) = try await s.startWorkerOnFreePort(env: Self.rings(s))
            try await withCleanup({ await restarted.kill9() }) {
                let (summary, _) = try await s.deliveredSummary(out, expected: expected, store: store, within: .seconds(60))
                let scrape = try await MetricsScrape.get(port: port)
                print(
                    "[cold-kill] \(moved) still cold at the kill; \(summary); restarted worker moved \(scrape.value("tock_cold_moved_total") ?? 0), \(scrape.value("tock_cold_moved_late_total") ?? 0) late"
                )
                #expect(moved > 0 && moved < 300, "the kill did not land while messages were being moved")
                #expect(summary.arrivals == 300, "\(summary)")
                #expect(summary.duplicates.isEmpty && summary.missing.isEmpty && summary.early.isEmpty, "\(summary)")
                #expect(try await store.coldCounts().total == 0)
                await store.client.close()
                await restarted.expectCleanStop(after: out)
            }
        }
    }

    @Test(
        "a worker paused (SIGSTOP) across several hour slots' windows, then resumed: the slots it missed are moved late, each message once, none early"
    )
    func pausedMoverCatchesUp() async throws {
        try await Self.withColdWorker("cold-pause") { s, out, store, worker, port in
            let expected = try await Self.sendColdLoad(s, prefix: "p")
            try await Self.waitStored(s, store, expected.count)
            try await Task.sleep(for: .seconds(5))
            _ = await worker.signal(SIGSTOP)
            try await Task.sleep(for: .seconds(10))
            _ = await worker.signal(SIGCONT)
            let (summary, _) = try await s.deliveredSummary(out, expected: expected, store: store, within: .seconds(60))
            let scrape = try await MetricsScrape.get(port: port)
            print("[cold-pause] \(summary); \(scrape.value("tock_cold_moved_late_total") ?? 0) moved late")
            #expect(summary.arrivals == 300, "\(summary)")
            #expect(summary.duplicates.isEmpty && summary.missing.isEmpty && summary.early.isEmpty, "\(summary)")
            #expect((scrape.value("tock_cold_moved_late_total") ?? 0) > 0, "the pause did not make any slot late")
            #expect(try await store.coldCounts().total == 0)
            await store.client.close()
            await worker.expectCleanStop(after: out)
        }
    }

    @Test("cancels racing the move of their slot: whichever comes first, none of the cancelled is published; the others are, once")
    func cancelsRacingTheMove() async throws {
        try await Self.withColdWorker("cold-race") { s, out, store, worker, port in
            // Due in one 2 s hour slot 8 to 10 s ahead: its move starts about 3.2 s before the slot.
            let slot = (WorkerScenario.now + 8_000) / 2_000 + 1
            let due = slot * 2_000
            let ids = (0..<250).map { "r\($0)" }
            try await s.send(ids.enumerated().map { s.request(id: $1, at: due + Int64($0) * 7, partition: Int32($0 % 4)) })
            let moveStart = due - 3_000 - 166
            // The cancels go out over 1 s from the slot's window opening (the move follows within a
            // fetch or two): some find the message cold, some hot.
            try await Task.sleep(for: .milliseconds(max(0, moveStart - WorkerScenario.now)))
            for chunk in stride(from: 0, to: 200, by: 20) {
                try await s.send((chunk..<chunk + 20).map { s.request(id: ids[$0], action: "cancel", partition: Int32($0 % 4)) })
                try await Task.sleep(for: .milliseconds(100))
            }
            let kept = Set(ids[200...])
            let (summary, arrivals) = try await s.deliveredSummary(out, expected: kept, store: store, within: .seconds(30))
            let published = Set(arrivals.compactMap { $0.header("tock-id") })
            let scrape = try await MetricsScrape.get(port: port)
            print(
                "[cold-race] \(summary); cancelled \(scrape.value(#"tock_requests_total{result="cancelled"}"#) ?? 0), moved \(scrape.value("tock_cold_moved_total") ?? 0)"
            )
            #expect(published.isDisjoint(with: ids[..<200]), "cancelled and published: \(published.subtracting(kept).sorted())")
            #expect(summary.duplicates.isEmpty && summary.missing.isEmpty && summary.early.isEmpty, "\(summary)")
            #expect(scrape.value(#"tock_requests_total{result="cancelled"}"#) == 200)
            #expect(try await store.coldCounts().total == 0)
            await store.client.close()
            await worker.expectCleanStop(after: out)
        }
    }
}
