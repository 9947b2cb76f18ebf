import Foundation
import Testing
import TockCore
import TockStore

/// `tock cancel` and the report it prints: a cancel read inside `delivery.lockAhead` of the due
/// time is lost (SPEC: counted as `delivering`, the message is published), and the command says so.
@Suite("tock cancel", .serialized)
struct CancelCommandTests {
    typealias Look = CancelReport.Observation

    func report(_ before: Look, _ after: Look, at now: Int64 = 10_000) -> CancelReport {
        CancelReport(id: "order-17", before: before, after: after, afterMillis: now, lockAheadMillis: 250)
    }

    @Test("what the report says for each pair of states before and after the cancel was written")
    func outcomes() {
        let delivering = report(Look(state: .claimed, fireMillis: 10_100), Look(state: .delivering))
        #expect(delivering.outcome == .tooLate && delivering.isTooLate)
        #expect(delivering.text.contains("too late") && delivering.text.contains("published"), "\(delivering.text)")
        #expect(delivering.text.contains(#"tock_requests_total{result="delivering"}"#))
        #expect(delivering.text.contains("delivery.lockAhead = 250 ms"))
        #expect(report(Look(state: .delivering), Look(state: .ended)).outcome == .tooLate)

        let ended = report(Look(state: .ended), Look(state: .ended))
        #expect(ended.outcome == .alreadyEnded && ended.isTooLate)

        // Ended before any delivery could have begun (fire time 60 s ahead): the cancel did it.
        let cancelled = report(Look(state: .pending, fireMillis: 70_000), Look(state: .ended))
        #expect(cancelled.outcome == .cancelled && !cancelled.isTooLate)
        // Ended with its fire time inside the window: either way, and not claimed to be too late.
        let either = report(Look(state: .claimed, fireMillis: 10_200), Look(state: .ended))
        #expect(either.outcome == .endedEitherWay && !either.isTooLate)

        let queued = report(Look(state: .pending, fireMillis: 70_000), Look(state: .pending, fireMillis: 70_000))
        #expect(queued.outcome == .queued && !queued.isTooLate)
        #expect(queued.text.contains("due in 60000 ms") && !queued.text.contains("unless"), "\(queued.text)")
        let soon = report(Look(state: .claimed, fireMillis: 10_200), Look(state: .claimed, fireMillis: 10_200))
        #expect(soon.outcome == .queued)
        #expect(soon.text.contains("unless its delivery begins first"), "\(soon.text)")

        // A cancel of an unknown id leaves a tombstone: the id reads as ended afterwards.
        #expect(report(Look(state: .unknown), Look(state: .ended)).outcome == .unknownID)
        #expect(report(Look(state: .unknown), Look(state: .unknown)).outcome == .unknownID)
    }

    @Test(
        "tock cancel of a message already being delivered says it is too late (exit 3), and the message is published; an early cancel removes its message"
    )
    func cancelInsideTheLockAheadWindow() async throws {
        let s = try await WorkerScenario("cancel-late")
        let out = try await s.collect([s.outputTopic])
        let store = try await s.store()
        let port = try TestSocket.freePort()
        // A wide lock-ahead window, so that the cancel surely falls inside it: a message due in
        // 6 s is locked for delivery as soon as it is claimed.
        let env = ["TOCK_DELIVERY_LOCK_AHEAD": "10s", "TOCK_HTTP_PORT": "\(port)"]
        try await s.withWorker(id: "w1", env: env) { worker in

            let due = WorkerScenario.now + 6_000
            try await s.sendStored([s.request(id: "late", at: due), s.request(id: "early", at: WorkerScenario.now + 60_000)], store: store)
            try await waitUntil("'late' is being delivered", within: .seconds(5)) {
                try await store.status(of: "late", nowMillis: WorkerScenario.now).state == .delivering
            }

            let cli = s.environment(workerID: "cli", ["TOCK_DELIVERY_LOCK_AHEAD": "10s"])
            let late = try await CLIRun.run(["cancel", "late"], environment: cli)
            print("[cancel-late] exit \(late.status): \(late.stdout)\(late.stderr)")
            #expect(late.status == 3, "\(late.stdout)\(late.stderr)")
            #expect(late.stdout.contains("cancel request for late written to \(s.inputTopic)/"), "\(late.stdout)")
            #expect(late.stdout.contains("too late: late was already being delivered"), "\(late.stdout)")

            let early = try await CLIRun.run(["cancel", "early"], environment: cli)
            print("[cancel-early] exit \(early.status): \(early.stdout)\(early.stderr)")
            #expect(early.status == 0, "\(early.stdout)\(early.stderr)")
            #expect(early.stdout.contains("early is still") || early.stdout.contains("cancelled: early"), "\(early.stdout)")

            // The late cancel was lost: the message arrives at its due time, and the worker counted it.
            let arrivals = await out.wait(for: 1, on: s.outputTopic, within: .seconds(15))
            #expect(arrivals.compactMap { $0.header("tock-id") } == ["late"])
            #expect(arrivals.allSatisfy { ($0.message.timestamp?.milliseconds ?? 0) >= due })
            try await waitUntil("'early' has ended (cancelled)", within: .seconds(5)) {
                try await store.status(of: "early", nowMillis: WorkerScenario.now).state == .ended
            }
            let scrape = try await MetricsScrape.get(port: port)
            #expect(scrape.value(#"tock_requests_total{result="delivering"}"#) == 1)
            #expect(scrape.value(#"tock_requests_total{result="cancelled"}"#) == 1)
            await out.settle(on: s.outputTopic)
            #expect(out.on(s.outputTopic).count == 1)
            await worker.expectCleanStop(after: out)
        }
    }
}
