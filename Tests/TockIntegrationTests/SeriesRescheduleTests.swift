import Foundation
import Testing
import TockCore
import TockKafka
import TockStore

/// Issue 25 items 2 and 6b through real `tock-worker` processes, Redis and the broker: a
/// reschedule never publishes an occurrence id again, and a series never replays the past.
@Suite(.serialized) struct SeriesRescheduleTests {
    /// Every record of `series` in the topic's log (read again from offset 0), by occurrence id.
    static func recordsById(of series: String, in arrivals: [OutputCollector.Arrival]) -> [String: [OutputCollector.Arrival]] {
        Dictionary(grouping: arrivals.filter { $0.header("tock-series") == series }) { $0.header("tock-id") ?? "" }
    }

    /// Checks one series' records: each of `expected` (due times) exactly once, nothing else,
    /// never early; the payload "old" on those due by `oldThrough`, "new" on those due from
    /// `newFrom` (the one between may have been in flight when the reschedule was read).
    static func expectOnce(
        _ series: String, _ arrivals: [OutputCollector.Arrival], expected: [Int64], oldThrough: Int64, newFrom: Int64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let byId = recordsById(of: series, in: arrivals)
        let records = byId.values.reduce(0) { $0 + $1.count }
        let doubled = byId.filter { $0.value.count > 1 }.keys.sorted()
        #expect(
            records == expected.count, "\(series): \(records) records for \(expected.count) occurrences; doubled \(doubled)",
            sourceLocation: sourceLocation)
        #expect(doubled.isEmpty, "\(series): published more than once: \(doubled)", sourceLocation: sourceLocation)
        let dues = SeriesEndToEndTests.occurrences(of: series, in: arrivals).sorted()
        #expect(Array(Set(dues)).sorted() == expected, "\(series): \(dues.map { $0 - (expected.first ?? 0) })", sourceLocation: sourceLocation)
        for arrival in arrivals where arrival.header("tock-series") == series {
            let due = Int64(arrival.header("tock-at") ?? "") ?? 0
            if due <= oldThrough || due >= newFrom {
                #expect(
                    arrival.payload == (due <= oldThrough ? "old" : "new"), "\(series)@\(due): \(arrival.payload)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test(
        "issue 25 item 2: every 1s count 10 from T0, at T0 + 5.5 s a reschedule with the same headers and tock-at T0: exactly 10 records; also when the reschedule is read late or meets an occurrence in flight"
    )
    func rescheduleRepublishesNothing() async throws {
        try await WorkerScenario.withWorkerAndStore("series-resched", collect: { s in [s.outputTopic, s.rejectedTopic] }) { s, worker, out, store in
            let t0 = WorkerScenario.now + 1_500
            let headers = ["tock-every": "1s", "tock-count": "10"]
            try await s.send([
                SeriesEndToEndTests.series(s, id: "repro", at: t0, headers, value: Array("old".utf8)),
                SeriesEndToEndTests.series(s, id: "late", at: t0, headers, value: Array("old".utf8)),
                SeriesEndToEndTests.series(s, id: "inflight", at: t0, headers, value: Array("old".utf8)),
            ])
            try await Task.sleep(for: .milliseconds(t0 + 5_500 - WorkerScenario.now))
            var late = SeriesEndToEndTests.series(s, id: "late", at: t0, headers, value: Array("new".utf8), action: "reschedule")
            // Written at T0 + 2.5 s by its producer's clock, read at T0 + 5.5 s: the old definition has
            // published T0 … T0 + 5 s by then.
            late.timestamp = t0 + 2_500
            try await s.send([SeriesEndToEndTests.series(s, id: "repro", at: t0, headers, value: Array("new".utf8), action: "reschedule"), late])
            // Read after T0 + 5.75 s, when T0 + 6 s is locked (delivery.lockAhead) and being published.
            try await Task.sleep(for: .milliseconds(t0 + 5_850 - WorkerScenario.now))
            try await s.send([SeriesEndToEndTests.series(s, id: "inflight", at: t0, headers, value: Array("new".utf8), action: "reschedule")])
            try await waitUntil("both series ended", within: .seconds(30)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            await out.catchUp(on: s.outputTopic)
            let arrivals = out.on(s.outputTopic)
            #expect(out.on(s.rejectedTopic).map { $0.header("tock-error-detail") ?? "" } == [])
            for series in ["repro", "late", "inflight"] {
                let byId = Self.recordsById(of: series, in: arrivals)
                print(
                    "[series-resched] \(series): \(byId.values.reduce(0) { $0 + $1.count }) records, \(byId.count) distinct ids, "
                        + "per id \(byId.sorted { $0.key < $1.key }.map { "+\((Int64($0.key.split(separator: "@").last ?? "") ?? 0) - t0)×\($0.value.count)" })"
                )
            }
            let expected = (0..<10).map { t0 + Int64($0) * 1_000 }
            // The reschedule is read at about T0 + 5.5 s: T0 + 6 s may be in flight by then (delivery.lockAhead).
            Self.expectOnce("repro", arrivals, expected: expected, oldThrough: t0 + 5_000, newFrom: t0 + 7_000)
            // The late one's new definition starts at T0 + 3 s, already published: it goes on after T0 + 5 s.
            Self.expectOnce("late", arrivals, expected: expected, oldThrough: t0 + 5_000, newFrom: t0 + 7_000)
            Self.expectOnce("inflight", arrivals, expected: expected, oldThrough: t0 + 5_000, newFrom: t0 + 7_000)
            // Whether the reschedule met T0 + 6 s in flight: it then came back only to advance.
            let cameBack = worker.log.split(separator: "\n").contains { $0.contains("not published") && $0.contains("inflight@\(t0 + 6_000)") }
            print("[series-resched] inflight: the reschedule \(cameBack ? "met" : "did not meet") T0 + 6 s in flight")
        }
    }

    @Test("issue 25 item 2, 100 series: every 1s count 20, each rescheduled at T0 + 5.5 s with the same headers: exactly 20 records each")
    func hundredSeriesRescheduled() async throws {
        try await WorkerScenario.withWorkerAndStore("series-resched100") { s, _, out, store in
            let t0 = WorkerScenario.now + 2_000
            let ids = (0..<100).map { "h\($0)" }
            let headers = ["tock-every": "1s", "tock-count": "20"]
            try await s.sendStored(ids.map { SeriesEndToEndTests.series(s, id: $0, at: t0, headers, value: Array("old".utf8)) }, store: store)
            try await Task.sleep(for: .milliseconds(t0 + 5_500 - WorkerScenario.now))
            try await s.send(ids.map { SeriesEndToEndTests.series(s, id: $0, at: t0, headers, value: Array("new".utf8), action: "reschedule") })
            try await waitUntil("every series ended", within: .seconds(45)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            await out.catchUp(on: s.outputTopic)
            let arrivals = out.on(s.outputTopic)
            let perSeries = ids.map { id in Self.recordsById(of: id, in: arrivals).values.reduce(0) { $0 + $1.count } }
            print(
                "[series-resched100] \(arrivals.count) records for 100 series of 20; per series min \(perSeries.min() ?? 0) max \(perSeries.max() ?? 0), "
                    + "\(perSeries.filter { $0 != 20 }.count) series not at 20")
            #expect(arrivals.count == 2_000)
            let expected = (0..<20).map { t0 + Int64($0) * 1_000 }
            // Read a little after T0 + 5.5 s, a reschedule may find T0 + 6 s in flight: old or new payload.
            for id in ids { Self.expectOnce(id, arrivals, expected: expected, oldThrough: t0 + 5_000, newFrom: t0 + 7_000) }
        }
    }

    @Test("issue 25 item 6b: a series whose tock-at is 5 minutes ago publishes nothing due before its request, and keeps its phase")
    func pastStartReplaysNothing() async throws {
        try await WorkerScenario.withWorkerAndStore("series-past", collect: { s in [s.outputTopic, s.rejectedTopic] }) { s, _, out, store in
            let sent = WorkerScenario.now
            let phase = sent - 300_000 + 337
            func request(_ id: String, _ headers: [String: String]) -> KafkaProducerRecord {
                var record = SeriesEndToEndTests.series(s, id: id, at: phase, headers)
                record.timestamp = sent
                return record
            }
            try await s.send([
                request("every", ["tock-every": "1s", "tock-until": String(sent + 3_999)]),
                request("counted", ["tock-every": "1s", "tock-count": "3"]),
                request("cron", ["tock-cron": "* * * * * *", "tock-until": String(sent + 2_999)]),
            ])
            try await waitUntil("every series ended", within: .seconds(30)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            await out.catchUp(on: s.outputTopic)
            let arrivals = out.on(s.outputTopic)
            #expect(out.on(s.rejectedTopic).map { $0.header("tock-error-detail") ?? "" } == [])
            let every = SeriesEndToEndTests.occurrences(of: "every", in: arrivals).sorted()
            let counted = SeriesEndToEndTests.occurrences(of: "counted", in: arrivals).sorted()
            let cron = SeriesEndToEndTests.occurrences(of: "cron", in: arrivals).sorted()
            print(
                "[series-past] request at \(sent), tock-at 5 min before: every \(every.count) records (\(every.filter { $0 < sent }.count) due before the request), "
                    + "counted \(counted.count) (\(counted.filter { $0 < sent }.count) before), cron \(cron.count) (\(cron.filter { $0 < sent }.count) before)"
            )
            // The first occurrence on the phase at or after the request's timestamp, then one a second.
            let first = phase + (sent - phase + 999) / 1_000 * 1_000
            #expect(every == (0..<4).map { first + Int64($0) * 1_000 }, "\(every.map { $0 - sent })")
            #expect(counted == (0..<3).map { first + Int64($0) * 1_000 }, "\(counted.map { $0 - sent })")
            let firstSecond = (sent + 999) / 1_000 * 1_000
            #expect(cron == (0..<3).map { firstSecond + Int64($0) * 1_000 }, "\(cron.map { $0 - sent })")
        }
    }
}
