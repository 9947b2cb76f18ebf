import Foundation
import Testing
import TockCore
import TockKafka
import TockStore

/// Recurring series (SPEC "Recurring schedules") through real `tock-worker` processes, Redis and
/// the broker.
@Suite(.serialized) struct SeriesEndToEndTests {
    /// A series request: `headers` are its `tock-` series headers.
    static func series(
        _ s: WorkerScenario, id: String, at: Int64? = nil, _ headers: [String: String], value: [UInt8] = Array("v".utf8),
        action: String? = nil
    ) -> KafkaProducerRecord {
        s.request(
            id: id, at: at, value: value, headers: headers.sorted { $0.key < $1.key }.map { KafkaHeader(key: $0.key, string: $0.value) },
            action: action)
    }

    /// The due times of `series`' occurrences that arrived, in arrival order, after checking each
    /// record's SPEC headers.
    static func occurrences(of series: String, in arrivals: [OutputCollector.Arrival], sourceLocation: SourceLocation = #_sourceLocation) -> [Int64] {
        arrivals.filter { $0.header("tock-series") == series }.compactMap { arrival in
            let due = arrival.header("tock-at").flatMap { Int64($0) }
            #expect(arrival.header("tock-id") == "\(series)@\(due ?? -1)", sourceLocation: sourceLocation)
            if let due, let stamp = arrival.message.timestamp?.milliseconds {
                #expect(stamp >= due, "\(series)@\(due) published \(due - stamp) ms early", sourceLocation: sourceLocation)
            }
            return due
        }
    }

    /// How late each occurrence of `series` was published (CreateTime − tock-at), by due time.
    static func lateness(of series: String, in arrivals: [OutputCollector.Arrival]) -> [Int64: Int64] {
        var late: [Int64: Int64] = [:]
        for arrival in arrivals where arrival.header("tock-series") == series {
            if let due = arrival.header("tock-at").flatMap({ Int64($0) }), let stamp = arrival.message.timestamp?.milliseconds {
                late[due] = stamp - due
            }
        }
        return late
    }

    @Test("tock-every 1s with tock-count 5: exactly 5 occurrences, 1000 ms apart, never early; the series then ends")
    func everyWithCount() async throws {
        try await WorkerScenario.withWorkerAndStore("series-every") { s, _, out, store in
            let start = WorkerScenario.now + 1_500
            try await s.send([Self.series(s, id: "five", at: start, ["tock-every": "1s", "tock-count": "5"], value: [7])])
            await out.wait(for: 5, on: s.outputTopic, within: .seconds(20))
            try await waitUntil("the series ended", within: .seconds(10)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            let dues = Self.occurrences(of: "five", in: out.on(s.outputTopic))
            #expect(dues == (0..<5).map { start + Int64($0) * 1_000 })
            #expect(out.on(s.outputTopic).allSatisfy { $0.message.value == [7] && $0.header("tock-attempt") == "1" })
            print(
                "[series] every 1s count 5: lateness ms \(Self.lateness(of: "five", in: out.on(s.outputTopic)).sorted { $0.key < $1.key }.map(\.value))"
            )
        }
    }

    @Test("a 6-field cron every 2 s in Europe/Berlin with tock-until: occurrences on even seconds, none after until")
    func cronWithUntil() async throws {
        try await WorkerScenario.withWorkerAndStore("series-cron") { s, _, out, store in
            let until = WorkerScenario.now + 8_000
            try await s.send([Self.series(s, id: "even", ["tock-cron": "*/2 * * * * *", "tock-tz": "Europe/Berlin", "tock-until": String(until)])])
            await out.wait(for: 1, on: s.outputTopic, within: .seconds(10))
            try await waitUntil("the series ended", within: .seconds(20)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(2_500))
            let dues = Self.occurrences(of: "even", in: out.on(s.outputTopic))
            #expect(dues.count >= 3)
            #expect(dues.allSatisfy { $0 % 2_000 == 0 && $0 <= until })
            #expect(zip(dues, dues.dropFirst()).allSatisfy { $1 - $0 == 2_000 })
            #expect((dues.last ?? 0) + 2_000 > until)
            print(
                "[series] cron */2 s Berlin: \(dues.count) occurrences, lateness ms \(Self.lateness(of: "even", in: out.on(s.outputTopic)).sorted { $0.key < $1.key }.map(\.value))"
            )
        }
    }

    @Test(
        "a series cancelled mid-way stops; the same series sent twice runs once; reschedule replaces a series, its tock-count counting what the series published"
    )
    func cancelDuplicateReschedule() async throws {
        try await WorkerScenario.withWorkerAndStore("series-cancel", collect: { s in [s.outputTopic, s.rejectedTopic] }) { s, _, out, store in
            // The test goes by the clock: the worker must read the series before they start. Under the
            // whole suite its first store came 3 s after its partitions were assigned, and the cancel
            // then came in the series' own batch.
            try await s.warmUp(store)
            let start = WorkerScenario.now + 1_500
            try await s.send([
                Self.series(s, id: "stopped", at: start, ["tock-every": "1s"]),
                Self.series(s, id: "twice", at: start, ["tock-every": "1s", "tock-count": "3"], value: [1]),
                Self.series(s, id: "twice", at: start + 500, ["tock-every": "1s", "tock-count": "3"], value: [2]),
                Self.series(s, id: "replaced", at: start, ["tock-every": "1s", "tock-count": "10"], value: [1]),
            ])
            // The collector may see records seconds after they were published: the test goes by the clock.
            try await Task.sleep(for: .milliseconds(start + 1_200 - WorkerScenario.now))
            try await s.send([
                s.request(id: "stopped", action: "cancel"),
                s.request(id: "warm-up", action: "cancel", partition: 0),
                Self.series(s, id: "replaced", at: start + 2_500, ["tock-every": "2s", "tock-count": "4"], value: [9], action: "reschedule"),
            ])
            let cancelSent = WorkerScenario.now
            try await waitUntil("every series ended", within: .seconds(20)) { try await s.storedMessageCount(store) == 0 }
            // The output topic read again from offset 0: a fresh-clone CI run's collector joined its
            // group only as the series ended and had fetched nothing when a quiet spell counted as the end.
            await out.catchUp(on: s.outputTopic, quiet: .milliseconds(2_500), within: .seconds(20))
            let arrivals = out.on(s.outputTopic)
            #expect(out.on(s.rejectedTopic).map { $0.header("tock-error-detail") ?? "" } == [])
            let stopped = Self.occurrences(of: "stopped", in: arrivals)
            // The cancel may meet one occurrence already being delivered (delivery.lockAhead), never a later one.
            #expect(stopped.count >= 2 && stopped.allSatisfy { $0 <= cancelSent + 1_250 }, "\(stopped.map { $0 - start })")
            #expect(Self.occurrences(of: "twice", in: arrivals) == [start, start + 1_000, start + 2_000])
            #expect(arrivals.filter { $0.header("tock-series") == "twice" }.allSatisfy { $0.message.value == [1] })
            let replaced = arrivals.filter { $0.header("tock-series") == "replaced" }
            let after = replaced.filter { $0.message.value == [9] }.compactMap { $0.header("tock-at").flatMap { Int64($0) } }
            let before = replaced.filter { $0.message.value == [1] }
            // tock-count counts what the series published under its id, before the reschedule too: 4 in all.
            #expect(replaced.count == 4 && after == Array([start + 2_500, start + 4_500].prefix(4 - before.count)), "\(after.map { $0 - start })")
            #expect(before.allSatisfy { Int64($0.header("tock-at") ?? "") ?? .max < start + 2_500 })
            #expect(Set(Self.occurrences(of: "replaced", in: arrivals)).count == replaced.count)
        }
    }

    @Test("every bad series form lands in tock.rejected with its code")
    func rejections() async throws {
        try await WorkerScenario.withWorker("series-bad", collect: { s in [s.rejectedTopic] }) { s, worker, out in
            let now = WorkerScenario.now
            let forms: [(String, [String: String], String)] = [
                ("cron", ["tock-cron": "61 * * * *"], "bad-cron"),
                ("never", ["tock-cron": "0 0 30 2 *"], "bad-cron"),
                ("zone", ["tock-cron": "* * * * *", "tock-tz": "Mars/Olympus"], "bad-timezone"),
                ("both", ["tock-cron": "* * * * *", "tock-every": "1m"], "bad-recurrence"),
                ("short", ["tock-every": "500ms"], "bad-recurrence"),
                ("count", ["tock-every": "1s", "tock-count": "0"], "bad-recurrence"),
                ("until", ["tock-every": "1s", "tock-until": "soon"], "bad-recurrence"),
                ("catchup", ["tock-every": "1s", "tock-catchup": "some"], "bad-recurrence"),
                ("over", ["tock-every": "1s", "tock-until": String(now - 60_000)], "bad-recurrence"),
                ("lonely", ["tock-count": "3"], "bad-recurrence"),
            ]
            try await s.send(forms.map { Self.series(s, id: $0.0, $0.1) })
            let rejected = await out.wait(for: forms.count, on: s.rejectedTopic, within: .seconds(20))
            for (id, _, code) in forms {
                let record = rejected.first { $0.header("tock-id") == id }
                #expect(record?.header("tock-error") == code, "\(id)")
                #expect(record?.header("tock-error-detail")?.isEmpty == false)
            }
            await worker.expectCleanExit()
        }
    }

    @Test("a worker SIGTERMed and another started mid-series: no occurrence missed or doubled")
    func workerReplacedMidSeries() async throws {
        let s = try await WorkerScenario("series-restart")
        try await s.withWorker(id: "w1") { first in
            let out = try await s.collect([s.outputTopic])
            let store = try await s.store()
            let start = WorkerScenario.now + 1_500
            try await s.send([Self.series(s, id: "steady", at: start, ["tock-every": "1s", "tock-count": "10"])])
            await out.waitUntil(on: s.outputTopic, within: .seconds(15)) { Self.occurrences(of: "steady", in: $0).count >= 3 }
            await first.expectCleanExit()
            let second = try await s.startWorker(id: "w2")
            defer { Task { await second.kill9() } }
            try await waitUntil("the series ended", within: .seconds(30)) { try await s.storedMessageCount(store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            let dues = Self.occurrences(of: "steady", in: out.on(s.outputTopic))
            #expect(dues.sorted() == (0..<10).map { start + Int64($0) * 1_000 })
            print(
                "[series] worker replaced: lateness ms \(Self.lateness(of: "steady", in: out.on(s.outputTopic)).sorted { $0.key < $1.key }.map(\.value))"
            )
            await out.stop()
            await store.client.close()
            await second.expectCleanExit()
        }
    }

    @Test("tock-catchup all, latest and none after the only worker was down for several intervals")
    func catchupAfterOutage() async throws {
        try await WorkerScenario.withWorker("series-catchup", id: "w1") { s, worker, out in
            let store = try await s.store()
            let start = WorkerScenario.now + 1_500
            let until = start + 14_000
            try await s.send(
                Recurrence.Catchup.allCases.map { mode in
                    Self.series(s, id: mode.rawValue, at: start, ["tock-every": "1s", "tock-until": String(until), "tock-catchup": mode.rawValue])
                })
            try await Task.sleep(for: .milliseconds(start + 2_300 - WorkerScenario.now))
            await worker.expectCleanExit()
            let down = WorkerScenario.now
            try await Task.sleep(for: .seconds(5))
            let launched = WorkerScenario.now
            try await s.withWorker(id: "w2") { restarted in
                let up = WorkerScenario.now
                try await waitUntil("every series ended", within: .seconds(30)) { try await s.storedMessageCount(store) == 0 }
                await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
                let arrivals = out.on(s.outputTopic)
                let every = (0...14).map { start + Int64($0) * 1_000 }
                // Missed: due while no worker ran, more than series.missedAfter before the second one started.
                let missed = every.filter { $0 > down && $0 < launched - 1_000 }
                #expect(missed.count >= 3, "the outage covered \(missed.count) occurrences")
                for mode in Recurrence.Catchup.allCases {
                    let dues = Self.occurrences(of: mode.rawValue, in: arrivals)
                    #expect(Set(dues).count == dues.count, "\(mode): doubled \(dues)")
                    let fired = Set(dues)
                    let ofMissed = missed.filter(fired.contains)
                    let late = Self.lateness(of: mode.rawValue, in: arrivals).values.filter { $0 > 1_500 }.count
                    print(
                        "[series] catch-up \(mode.rawValue): \(ofMissed.count) of \(missed.count) missed occurrences fired; lateness ms \(Self.lateness(of: mode.rawValue, in: arrivals).sorted { $0.key < $1.key }.map(\.value))"
                    )
                    switch mode {
                    case .all: #expect(dues.sorted() == every)
                    case .latest: #expect(ofMissed.count <= 1 && late <= 1 && fired.isSuperset(of: every.filter { $0 >= up }))
                    case .none: #expect(ofMissed.isEmpty && late == 0 && fired.isSuperset(of: every.filter { $0 >= up }))
                    }
                }
                await store.client.close()
                await restarted.expectCleanExit()
            }
        }
    }

    @Test("tock schedule --every/--cron writes a series; tock status shows its definition, occurrences so far and the next one")
    func commandLine() async throws {
        try await WorkerScenario.withWorker("series-cli") { s, worker, out in
            let cli = s.environment(workerID: "cli")
            let every = try await CLIRun.run(
                [
                    "schedule", "--topic", s.outputTopic, "--every", "1s", "--count", "3", "--delay", "8s", "--id", "cli-every",
                    "hello",
                ], environment: cli)
            #expect(every.status == 0, "\(every.stdout)\(every.stderr)")
            let cron = try await CLIRun.run(
                [
                    // From two days on: never due while the test runs, whatever the time of day.
                    "schedule", "--topic", s.outputTopic, "--cron", "0 9 * * MON-FRI", "--tz", "America/New_York",
                    "--at", String(WorkerScenario.now + 2 * 86_400_000), "--id", "cli-cron", "report",
                ], environment: cli)
            #expect(cron.status == 0, "\(cron.stdout)\(cron.stderr)")
            let refused = try await CLIRun.run(["schedule", "--topic", s.outputTopic, "--cron", "* * * * *", "--every", "1m"], environment: cli)
            #expect(refused.status != 0 && refused.stderr.contains("exactly one of --cron and --every"), "\(refused.stderr)")

            var status = try await CLIRun.run(["status", "cli-every"], environment: cli)
            try await waitUntil("a worker stored the series", within: .seconds(10)) {
                status = try await CLIRun.run(["status", "cli-every"], environment: cli)
                return status.stdout.contains("series:")
            }
            print("[series-cli] \(status.stdout)")
            #expect(status.stdout.contains("series:    every 1s") && status.stdout.contains("count 3"), "\(status.stdout)")
            #expect(status.stdout.contains("fired:") && status.stdout.contains("tock-id cli-every@"), "\(status.stdout)")
            let weekday = try await CLIRun.run(["status", "cli-cron"], environment: cli)
            #expect(
                weekday.stdout.contains("state:     pending") && weekday.stdout.contains("cron \"0 9 * * MON-FRI\" in America/New_York"),
                "\(weekday.stdout)")
            let due = status.stdout.split(separator: "tock-id ").last.map { String($0.prefix { !$0.isWhitespace }) } ?? ""
            let occurrence = due
            let byOccurrence = try await CLIRun.run(["status", occurrence], environment: cli)
            #expect(byOccurrence.stdout.contains("is an occurrence of series cli-every"), "\(byOccurrence.stdout)")
            await out.wait(for: 3, on: s.outputTopic, within: .seconds(25))
            #expect(Self.occurrences(of: "cli-every", in: out.on(s.outputTopic)).count == 3)
            let cancel = try await CLIRun.run(["cancel", "cli-cron"], environment: cli)
            #expect(cancel.status == 0, "\(cancel.stdout)\(cancel.stderr)")
            await worker.expectCleanExit()
        }
    }

    @Test("a worker SIGKILLed mid-series: its shards move, and no occurrence of 40 series is missed or doubled")
    func workerKilledMidSeries() async throws {
        try await ClusterFixture.run("series-kill", collect: { s in [s.outputTopic] }) { c, s, out in
            try await c.startBalanced(["w-a", "w-b"], monitors: ["m1"])
            let start = WorkerScenario.now + 2_000
            let ids = (0..<40).map { "k\($0)" }
            try await s.sendStored(
                ids.enumerated().map { index, id in
                    Self.series(s, id: id, at: start + Int64(index * 25), ["tock-every": "1s", "tock-count": "8"])
                }, store: c.store)
            try await Task.sleep(for: .milliseconds(start + 3_600 - WorkerScenario.now))
            await c.worker("w-a").kill9()
            let killedAt = WorkerScenario.now
            try await waitUntil("every series ended", within: .seconds(40)) { try await s.storedMessageCount(c.store) == 0 }
            await out.settle(on: s.outputTopic, quiet: .milliseconds(1_500))
            let arrivals = out.on(s.outputTopic)
            var worst: Int64 = 0
            for (index, id) in ids.enumerated() {
                let first = start + Int64(index * 25)
                let dues = Self.occurrences(of: id, in: arrivals)
                #expect(dues.sorted() == (0..<8).map { first + Int64($0) * 1_000 }, "\(id): \(dues.map { $0 - first })")
                worst = max(worst, Self.lateness(of: id, in: arrivals).values.max() ?? 0)
            }
            print("[series] w-a killed at +\(killedAt - start) ms: \(arrivals.count) occurrences of 40 series, latest \(worst) ms late")
        }
    }
}
