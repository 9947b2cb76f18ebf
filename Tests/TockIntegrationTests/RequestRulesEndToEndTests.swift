import Foundation
import Testing
import TockCore
import TockKafka

/// SPEC v3's smaller request rules through a real `tock-worker`, Redis and the broker: `@` is
/// reserved for occurrence ids, and `tock-tz` takes every name of the tz database.
@Suite(.serialized) struct RequestRulesEndToEndTests {
    @Test(
        "a one-shot, reschedule or cancel whose tock-id is X@<ms> next to series X is bad-id in tock.rejected; only the series publishes X@ ids; tock status X@<ms> still finds the series"
    )
    func reservedAt() async throws {
        try await WorkerScenario.withWorker("reserved-at", collect: { s in [s.outputTopic, s.rejectedTopic] }) { s, worker, out in
            let start = WorkerScenario.now + 2_000
            let occurrence = "X@\(start)"
            try await s.send([
                SeriesEndToEndTests.series(s, id: "X", at: start, ["tock-every": "1s", "tock-count": "2"]),
                // The id of the series' first occurrence, as a message of its own: due at once.
                s.request(id: occurrence, at: start - 2_000, value: [7]),
                s.request(id: "X@\(start + 1_000)", at: start, value: [8], action: "reschedule"),
                s.request(id: occurrence, action: "cancel"),
                s.request(id: "after", at: start - 2_000),
            ])
            let rejected = await out.wait(for: 3, on: s.rejectedTopic, within: .seconds(20))
            #expect(rejected.count == 3 && rejected.allSatisfy { $0.header("tock-error") == "bad-id" }, "\(rejected.map { $0.header("tock-error") })")
            for record in rejected {
                let detail = record.header("tock-error-detail") ?? ""
                #expect(detail.contains("has \"@\" at position 1") && detail.contains("reserved for the ids of a series' occurrences"), "\(detail)")
            }
            #expect(Set(rejected.map { $0.header("tock-action") ?? "schedule" }) == ["schedule", "reschedule", "cancel"])

            await out.waitUntil(on: s.outputTopic, within: .seconds(20)) { SeriesEndToEndTests.occurrences(of: "X", in: $0).count >= 2 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            let published = out.on(s.outputTopic)
            let ids = published.compactMap { $0.header("tock-id") }
            print("[reserved-at] published \(ids.sorted()); rejected \(rejected.map { $0.header("tock-error-detail") ?? "" }.first ?? "")")
            #expect(ids.sorted() == ["X@\(start)", "X@\(start + 1_000)", "after"], "\(ids)")
            #expect(Set(ids).count == ids.count, "two records share a tock-id: \(ids)")
            #expect(published.allSatisfy { $0.message.value != [7] && $0.message.value != [8] })

            // tock status of an occurrence id is a look-up, not a request: it still shows the series;
            // tock cancel of one refuses before writing anything.
            let cli = s.environment(workerID: "cli")
            let status = try await CLIRun.run(["status", occurrence], environment: cli)
            #expect(status.stdout.contains("\(occurrence) is an occurrence of series X"), "\(status.stdout)\(status.stderr)")
            let cancel = try await CLIRun.run(["cancel", occurrence], environment: cli)
            #expect(cancel.status != 0 && cancel.stderr.contains("reserved for the ids of a series' occurrences"), "\(cancel.stderr)")
            await worker.expectCleanExit()
        }
    }

    @Test("series in tz database names without a \"/\" (Japan, EST5EDT, UTC, Zulu) and Etc/GMT+5 fire; PST is bad-timezone")
    func zoneNames() async throws {
        try await WorkerScenario.withWorker("tz-names", collect: { s in [s.outputTopic, s.rejectedTopic] }) { s, worker, out in
            let zones = ["Japan", "EST5EDT", "UTC", "Zulu", "Etc/GMT+5"]
            let start = WorkerScenario.now + 1_500
            try await s.send(
                zones.map { zone in
                    SeriesEndToEndTests.series(s, id: "tz-\(zone)", at: start, ["tock-cron": "* * * * * *", "tock-tz": zone, "tock-count": "2"])
                } + [SeriesEndToEndTests.series(s, id: "tz-PST", at: start, ["tock-cron": "* * * * * *", "tock-tz": "PST"])])
            let rejected = await out.wait(for: 1, on: s.rejectedTopic, within: .seconds(20))
            #expect(rejected.first?.header("tock-id") == "tz-PST" && rejected.first?.header("tock-error") == "bad-timezone")
            #expect(rejected.first?.header("tock-error-detail")?.contains("\"PST\" is not a name of the tz database") == true)
            await out.waitUntil(on: s.outputTopic, within: .seconds(20)) { arrivals in
                zones.allSatisfy { SeriesEndToEndTests.occurrences(of: "tz-\($0)", in: arrivals).count >= 2 }
            }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            let arrivals = out.on(s.outputTopic)
            for zone in zones {
                let dues = SeriesEndToEndTests.occurrences(of: "tz-\(zone)", in: arrivals)
                #expect(dues.count == 2 && dues.allSatisfy { $0 % 1_000 == 0 && $0 >= start }, "\(zone): \(dues)")
            }
            print(
                "[tz-names] \(zones.map { "\($0): \(SeriesEndToEndTests.occurrences(of: "tz-\($0)", in: arrivals).count)" }.joined(separator: ", "))")
            let allRejected = out.on(s.rejectedTopic)
            #expect(allRejected.count == 1, "\(allRejected.map { ($0.header("tock-id") ?? "", $0.header("tock-error-detail") ?? "") })")
            await worker.expectCleanExit()
        }
    }
}
