import Foundation
import Synchronization
import Testing
import TockCore
import TockHTTP
import TockKafka
import TockRuntime
import TockStore

/// SPEC.md's guarantees under failures, through real `tock-worker` processes: re-reads (offset
/// reset, crash before commit), SIGTERM drain, SIGKILL, a second standalone worker, and the
/// HTTP endpoints.
@Suite("Worker failures", .serialized)
struct WorkerFailureTests {
    // MARK: - 1. Offset reset

    @Test("a request read again from the earliest offset (offset reset, lost commit) is a no-op: N delivered once")
    func rereadAfterOffsetReset() async throws {
        let s = try await WorkerScenario("reread")
        let out = try await s.collect([s.outputTopic])
        try await s.withWorker(id: "a") { a in

            let n = 200
            let due = WorkerScenario.now + 2_000
            // Half carry a tock-id; half the default one (topic/partition/offset), for which only the
            // partition watermarks can tell a re-read (no tombstone is kept for a default id).
            let expected = Set((0..<n).map { "m-\($0)" })
            try await s.send(
                (0..<n).map { i in
                    s.request(id: i.isMultiple(of: 2) ? "given-\(i)" : nil, at: due, value: Array("m-\(i)".utf8), partition: Int32(i % 4))
                })
            await out.waitDistinct(n, on: s.outputTopic, within: .seconds(20)) { $0.payload }
            await a.expectCleanExit()

            // B: same key prefix, a group that never committed anything, so it reads the input topic
            // again from the earliest offset.
            let (b, port) = try await s.startInNewGroup("b", group: "reset")
            defer { Task { await b.kill9() } }
            var scrape = try await s.rereadThenMarkers(n, port: port, out: out, within: .seconds(20))

            let summary = DeliverySummary(out.on(s.outputTopic), expected: expected.union((0..<4).map { "marker-\($0)" })) { $0.payload }
            print("[reread] N=\(n): \(summary); B's outcomes: reread \(scrape.value(#"tock_requests_total{result="reread"}"#) ?? -1)")
            #expect(summary.arrivals == n + 4)
            #expect(summary.duplicates.isEmpty, "\(summary)")
            #expect(summary.missing.isEmpty, "\(summary)")
            // Each output tock-id once too (the default ids are the request's topic/partition/offset).
            let ids = out.on(s.outputTopic).compactMap { $0.header("tock-id") }
            #expect(ids.count == n + 4 && Set(ids).count == n + 4)
            scrape = try await MetricsScrape.get(port: port)
            // Every re-read was recognised by its watermark, not by the later id checks.
            for result in ["stored", "duplicate", "tombstoned"] {
                #expect((scrape.value("tock_requests_total{result=\"\(result)\"}") ?? 0) == 0, "B counted \(result)")
            }
            #expect(scrape.value(#"tock_requests_total{result="claimed"}"#) == 4)
            await b.expectCleanStop(after: out)
        }
    }

    @Test("stored offsets beyond a partition's log end (a deleted and recreated topic) make it a new partition; its records are delivered")
    func recreatedTopicResetsWatermarks() async throws {
        let s = try await WorkerScenario("recreated")
        let store = try await s.store()
        // What an earlier incarnation of the input topic left: every partition stored up to offset 999.
        let old = (0..<4).map {
            StoreEntry(
                operation: .noop, topicPartition: "\(s.inputTopic)/\($0)", offset: 999, id: "old-\($0)", tombstone: nil, dueMillis: 0, blob: [])
        }
        _ = try await store.store(Dictionary(grouping: old) { store.shardMap.shard(of: $0.id) }, nowMillis: WorkerScenario.now)
        // Three records per partition, each partition's written in one batch: the new incarnation.
        let ids = (0..<12).map { "new-\($0)" }
        try await s.send(ids.indices.map { s.request(id: ids[$0], at: WorkerScenario.now, partition: Int32($0 % 4)) })
        let out = try await s.collect([s.outputTopic])
        try await s.withWorker { worker in
            await out.waitDistinct(ids.count, on: s.outputTopic, within: .seconds(20)) { $0.header("tock-id") }
            #expect(Set(out.on(s.outputTopic).compactMap { $0.header("tock-id") }) == Set(ids))
            #expect(worker.log.components(separatedBy: "input partition is new").count - 1 == 4)
            for partition in Int32(0)..<4 {
                let highest = try await store.highestStoredOffset(topic: s.inputTopic, partition: partition)
                #expect(highest == 2)
            }
            await worker.expectCleanStop(after: out)
        }
    }

    // MARK: - 2. Crash before commit

    @Test("SIGKILL between storing and committing, restart: every request delivered once, none lost, none early")
    func crashBeforeCommit() async throws {
        // Commits every 3 s, not 200 ms: a batch stored after the N is then uncommitted for long
        // enough that the kill lands before its commit even on a slow machine (at 200 ms a CI
        // run stored the next batch 395 ms after the N, and committed it before the kill).
        try await WorkerScenario.withCollectorStoreAndWorker("crash", env: ["TOCK_KAFKA_COMMIT_INTERVAL": "3s"]) { s, out, store, worker in
            // Default tock-ids (topic/partition/offset), so only the watermarks tell a re-read;
            // messages are told apart by payload.
            let n = 500
            let reports = await s.producer.send(
                (0..<n).map { i in
                    s.request(at: WorkerScenario.now + 4_000, value: Array("m-\(i)".utf8), partition: Int32(i % 4))
                })
            var last: [Int32: Int64] = [:]
            for result in reports {
                let report = try result.get()
                last[report.partition] = max(last[report.partition] ?? -1, report.offset)
            }

            // More requests keep coming while the worker dies, so some are stored and not committed
            // yet (commits go every 200 ms), and some are on the topic unread.
            let extras = Mutex<[String]>([])
            let sender = Task {
                var j = 0
                while !Task.isCancelled {
                    let batch = (j..<j + 10).map { s.request(at: WorkerScenario.now + 4_000, value: Array("x-\($0)".utf8), partition: Int32($0 % 4)) }
                    for (record, result) in zip(batch, await s.producer.send(batch)) {
                        if case .success = result { extras.withLock { $0.append(String(decoding: record.value ?? [], as: UTF8.self)) } }
                    }
                    j += 10
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            defer { sender.cancel() }
            func storedOffsets() async throws -> [Int32: Int64] {
                var stored: [Int32: Int64] = [:]
                for partition in Int32(0)..<4 { stored[partition] = try await store.highestStoredOffset(topic: s.inputTopic, partition: partition) }
                return stored
            }
            try await waitUntil("the store has the \(n) requests", within: .seconds(20), every: .milliseconds(5)) {
                let stored = try await storedOffsets()
                return last.allSatisfy { stored[$0.key, default: -1] >= $0.value }
            }
            // The worker was idle before the N, so storing them committed at once and the next commit
            // comes 3 s later. Kill it as soon as the next batch (extras) is stored: stored, not
            // committed.
            let clock = ContinuousClock()
            let storedN = clock.now
            let afterN = try await storedOffsets()
            try await waitUntil("a batch after the N is stored", within: .seconds(5), every: .milliseconds(2)) {
                let stored = try await storedOffsets()
                return stored.contains { $0.value > afterN[$0.key, default: -1] }
            }
            let nextStoredAfter = clock.now - storedN
            let killStatus = await worker.signal(SIGKILL, waitUpTo: .seconds(5))
            #expect(killStatus != nil)
            let storedAtKill = try await storedOffsets()
            try await Task.sleep(for: .milliseconds(300))
            sender.cancel()
            _ = await sender.value

            let (restarted, port) = try await s.startWorkerOnFreePort(id: "w1")
            defer { Task { await restarted.kill9() } }
            let expected = Set((0..<n).map { "m-\($0)" }).union(extras.withLock { $0 })
            let (summary, _) = try await s.deliveredSummary(out, expected: expected, store: store, within: .seconds(30), emptyWithin: .seconds(15)) {
                $0.payload
            }
            // The first N were stored before the kill: the restarted worker's wheel fires them on time.
            // The rest were read after its group join (a few seconds, the dead member's session
            // included), so they are late by that much.
            let storedBeforeKill = DeliverySummary(out.on(s.outputTopic).filter { $0.payload.hasPrefix("m-") }, expected: []) { $0.payload }
            let scrape = try await MetricsScrape.get(port: port)
            let reread = scrape.value(#"tock_requests_total{result="reread"}"#) ?? 0
            print(
                "[crash] N=\(n) + \(expected.count - n) sent around the kill; next batch stored \(nextStoredAfter) after the N; "
                    + "stored up to \(storedAtKill.sorted { $0.key < $1.key }.map(\.value)) at the kill; "
                    + "restarted worker re-read \(Int(reread)) stored-but-uncommitted requests; \(summary); "
                    + "max lateness of the \(n) stored before the kill \(storedBeforeKill.maxLatenessMillis) ms")
            #expect(summary.duplicates.isEmpty, "\(summary)")
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(summary.arrivals == expected.count)
            // The kill did land between a store and its commit: the restarted worker read stored
            // records again, and the watermarks (not the pending-id check) made them no-ops.
            #expect(reread > 0, "no stored-but-uncommitted request at the kill: the test did not exercise the window")
            #expect((scrape.value(#"tock_requests_total{result="duplicate"}"#) ?? 0) == 0)
            await restarted.expectCleanStop(after: out)
        }
    }

    // MARK: - 3. SIGTERM drain

    @Test("SIGTERM drains within shutdown.timeout, hands the wheel back (pending), and a new worker delivers all once")
    func sigtermDrain() async throws {
        try await WorkerScenario.withCollectorStoreAndWorker("drain", env: ["TOCK_SHUTDOWN_TIMEOUT": "10s"]) { s, out, store, worker in
            let n = 300
            // Due 16–19 s ahead: within the 30 s lookahead, so they sit claimed in the wheel. The
            // worker's group join alone can take 3 s, and a loaded CI machine once took more than
            // 7 s to claim all, so the wait allows 15 s, still a second before the first is due.
            let (start, ids) = try await s.sendSpaced("d", count: n) { 16_000 + Int64($0) * 10 }
            var notClaimed = Set(ids)
            try await waitUntil("all \(n) are claimed", within: .seconds(15)) {
                for id in notClaimed where try await store.status(of: id, nowMillis: WorkerScenario.now).state == .claimed { notClaimed.remove(id) }
                return notClaimed.isEmpty
            }

            let clock = ContinuousClock()
            let stopping = clock.now
            let status = await worker.signal(SIGTERM, waitUpTo: .seconds(20))
            let took = clock.now - stopping
            print("[drain] SIGTERM at +\(WorkerScenario.now - start) ms; exit \(status.map(String.init) ?? "none") after \(took)")
            #expect(status == 0)
            #expect(took < .seconds(10), "drain took \(took), beyond shutdown.timeout 10s")
            #expect(worker.log.contains("wheel handed back"))
            #expect(worker.log.contains("released=\(n)"), "\(worker.log.suffix(2_000))")
            var states: [MessageStatus.State: Int] = [:]
            for id in ids { states[try await store.status(of: id, nowMillis: WorkerScenario.now).state, default: 0] += 1 }
            #expect(states == [.pending: n], "statuses after the drain: \(states)")
            #expect(out.on(s.outputTopic).isEmpty)

            // A different worker id: the drained worker gave the standalone lease up.
            let next = try await s.startWorker(id: "w2")
            defer { Task { await next.kill9() } }
            let (summary, _) = try await s.deliveredSummary(out, expected: Set(ids), store: store, within: .seconds(30), emptyWithin: .seconds(10))
            print("[drain] N=\(n) after restart: \(summary)")
            for a in out.on(s.outputTopic) where summary.duplicates[a.header("tock-id") ?? ""] != nil {
                print(
                    "[dupdebug] p=\(a.message.partition) o=\(a.message.offset) ts=\(a.message.timestamp?.milliseconds ?? 0) arrived=\(a.arrivedMillis) headers=\(a.message.headers.map { "\($0.key)=\(String(decoding: $0.value ?? [], as: UTF8.self))" })"
                )
            }
            if !summary.duplicates.isEmpty { print("[dupdebug] w1 log:\n\(worker.log.suffix(6000))\n[dupdebug] w2 log:\n\(next.log.suffix(6000))") }
            #expect(summary.arrivals == n)
            #expect(summary.duplicates.isEmpty, "\(summary)")
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            await next.expectCleanStop(after: out)
        }
    }

    // MARK: - 4. SIGKILL while firing

    @Test(
        "a worker SIGKILLed while firing and restarted loses nothing and publishes nothing twice: what it left locked is read back first (SPEC guarantee 3)"
    )
    func sigkillWhileFiring() async throws {
        let env = ["TOCK_DELIVERY_LEASE_TIMEOUT": "3s"]
        try await WorkerScenario.withCollectorStoreAndWorker("kill", env: env) { s, out, store, worker in
            let n = 1_000
            // Spread over the next ~6 s: one every 6 ms.
            let (start, ids) = try await s.sendSpaced("k", count: n) { 300 + Int64($0) * 6 }

            try await Task.sleep(for: .milliseconds(max(0, start + 2_000 - WorkerScenario.now)))
            let killStatus = await worker.signal(SIGKILL, waitUpTo: .seconds(5))
            #expect(killStatus != nil)
            let killedAt = WorkerScenario.now - start
            // Locked for delivery when it died: published or not, they are sent (again) after the lease.
            let inFlight = try await s.leasedIDs(store)
            let beforeKill = Set(out.on(s.outputTopic).compactMap { $0.header("tock-id") }).count

            try await Task.sleep(for: .seconds(1))
            let restarted = try await s.startWorker(id: "w1", env: env)
            defer { Task { await restarted.kill9() } }
            let (summary, _) = try await s.deliveredSummary(out, expected: Set(ids), store: store, within: .seconds(30), emptyWithin: .seconds(15))
            let duplicated = summary.duplicated
            let extraCopies = summary.extraCopies
            print(
                "[kill] N=\(n), killed at +\(killedAt) ms with \(beforeKill) seen delivered and \(inFlight.count) in flight \(inFlight.sorted().prefix(10)); "
                    + "\(summary); \(extraCopies) extra copies of \(duplicated.count) ids; max lateness \(summary.maxLatenessMillis) ms")
            summary.expectAllOnceExceptInFlight(inFlight)
            #expect(duplicated.isEmpty, "\(summary)")
            await restarted.expectCleanStop(after: out)
        }
    }

    @Test(
        "SIGKILL after the broker acknowledged a slice and before its outcome was recorded: the restarted worker finds those records by read-back and publishes none again"
    )
    func sigkillBeforeFinishIsReadBack() async throws {
        let env = ["TOCK_DELIVERY_LEASE_TIMEOUT": "3s"]
        // The third slice with acknowledged records dies before `finish`: its records are in Kafka, its lock says nothing.
        let faulty = env.merging(["TOCK_TEST_FAULTS": "kill-before-finish=3"]) { $1 }
        try await WorkerScenario.withCollectorStoreAndWorker("readback", env: faulty) { s, out, store, worker in
            let n = 400
            // Keyed and keyless records (a keyless one's partition comes from its tock-id), one every 5 ms.
            let (_, ids) = try await s.sendSpaced("rb", count: n, key: { $0 % 2 == 0 ? "key-\($0 % 7)" : nil }) { 1_500 + Int64($0) * 5 }
            #expect(await worker.waitForExit(within: .seconds(30)) != nil)
            #expect(worker.log.contains("fault point kill-before-finish"), "\(worker.log.suffix(2_000))")
            let inFlight = try await s.leasedIDs(store)
            let published = Set(out.on(s.outputTopic).compactMap { $0.header("tock-id") })
            #expect(!inFlight.isEmpty)

            let restarted = try await s.startWorker(id: "w1", env: env)
            defer { Task { await restarted.kill9() } }
            let (summary, _) = try await s.deliveredSummary(out, expected: Set(ids), store: store, within: .seconds(40), emptyWithin: .seconds(20))
            let acknowledgedButUnrecorded = inFlight.intersection(published)
            print("[readback] \(inFlight.count) locked at the kill, \(acknowledgedButUnrecorded.count) of them already published; \(summary)")
            #expect(!acknowledgedButUnrecorded.isEmpty, "the fault point left no published record under a lock")
            #expect(summary.missing.isEmpty && summary.early.isEmpty && summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.duplicated.isEmpty, "\(summary)")
            #expect(restarted.log.contains("an earlier attempt is already in its partition"), "\(restarted.log.suffix(2_000))")
            await restarted.expectCleanStop(after: out)
        }
    }

    // MARK: - 5. Standalone lease

    @Test("a second standalone worker refuses to start, naming the holder; the first keeps working")
    func secondStandaloneWorkerRefused() async throws {
        let s = try await WorkerScenario("lease")
        try await s.withWorker(id: "worker-a") { a in
            let out = try await s.collect([s.outputTopic])

            let clock = ContinuousClock()
            let started = clock.now
            let b = try await s.startWorker(id: "worker-b", waitReady: false)
            defer { Task { await b.kill9() } }
            let status = await b.waitForExit(within: .seconds(10))
            print("[lease] second worker exited \(status.map(String.init) ?? "not") after \(clock.now - started)")
            #expect(status != nil && status != 0)
            #expect(b.log.contains("another standalone worker (worker-a) holds the lease"), "\(b.log.suffix(2_000))")
            #expect(!b.log.contains("input partitions assigned"))

            // A still owns every shard (B did not fence it) and delivers.
            #expect(a.isRunning)
            try await s.send([s.request(id: "after-b", at: WorkerScenario.now + 200)])
            let arrivals = await out.wait(for: 1, on: s.outputTopic, within: .seconds(20))
            #expect(arrivals.compactMap { $0.header("tock-id") } == ["after-b"])
            #expect(!a.log.contains("lost shard ownership"))
            await a.expectCleanStop(after: out)
        }
    }

    @Test("a standalone worker restarted under a new id after SIGKILL waits for the dead holder's lease, says so on /readyz, takes over and delivers")
    func restartAfterSigkillWaitsForLease() async throws {
        // Ids as the default (host name and pid) would make them: a restart gets a new one.
        try await WorkerScenario.withCollectorStoreAndWorker("relaunch", id: "host-1001") { s, out, store, a in
            let n = 60
            // Due from 1 s to 13 s ahead: some fall due while the lease is waited for, some after.
            let (_, ids) = try await s.sendSpaced("r", count: n, storedIn: store) { 1_000 + Int64($0) * 200 }
            #expect(await a.signal(SIGKILL, waitUpTo: .seconds(5)) != nil)
            let inFlight = try await s.leasedIDs(store)

            let port = try TestSocket.freePort()
            let clock = ContinuousClock()
            let restarted = clock.now
            let b = try await s.startWorker(id: "host-1002", env: ["TOCK_HTTP_PORT": "\(port)"], waitReady: false)
            defer { Task { await b.kill9() } }
            try await b.waitForLog("waiting for it to expire", within: .seconds(10))
            #expect(b.log.contains("holder=host-1001"), "\(b.log.suffix(2_000))")
            var ready: TestSocket.Response?
            try await waitUntil("/readyz answers", within: .seconds(5)) {
                ready = try? await TestSocket.get(port: port, path: "/readyz")
                return ready != nil
            }
            #expect(ready?.status == 503)
            #expect(ready?.body.contains("waiting for the standalone lease: held by host-1001") == true, "\(ready?.body ?? "")")

            try await b.waitForLog("input partitions assigned", within: .seconds(30))
            let tookOver = clock.now - restarted
            #expect(b.isRunning)
            #expect(b.log.contains("took the standalone lease over"), "\(b.log.suffix(2_000))")
            let (summary, _) = try await s.deliveredSummary(out, expected: Set(ids), store: store, within: .seconds(30), emptyWithin: .seconds(10))
            print("[relaunch] took over after \(tookOver); \(inFlight.count) in flight at the kill; \(summary)")
            summary.expectAllOnceExceptInFlight(inFlight)
            try await waitUntil("/readyz is 200", within: .seconds(5)) { try await TestSocket.get(port: port, path: "/readyz").status == 200 }
            await b.expectCleanStop(after: out)
        }
    }

    // MARK: - 6. Metrics and health

    @Test("/metrics counts stored and fired messages with a lateness histogram; /healthz and /readyz answer 200")
    func metricsAndHealth() async throws {
        let s = try await WorkerScenario("metrics")
        let port = try TestSocket.freePort()
        try await s.withWorker(id: "w1", env: ["TOCK_HTTP_PORT": "\(port)"]) { worker in
            let out = try await s.collect([s.outputTopic])

            let n = 20
            let now = WorkerScenario.now
            // Most due soon (claimed straight into the wheel), two beyond the 30 s lookahead (stored).
            try await s.send(
                (0..<n).map { s.request(id: "m-\($0)", at: now + 500 + Int64($0) * 20) }
                    + [s.request(id: "later-1", at: now + 60_000), s.request(id: "later-2", at: now + 60_000)])
            await out.wait(for: n, on: s.outputTopic, within: .seconds(20))
            #expect(out.on(s.outputTopic).count == n)

            var scrape = try await MetricsScrape.get(port: port)
            try await waitUntil("/metrics shows \(n) deliveries", within: .seconds(5)) {
                scrape = try await MetricsScrape.get(port: port)
                return (scrape.value(#"tock_fired_total{result="delivered"}"#) ?? 0) >= Double(n)
            }
            let claimed = scrape.value(#"tock_requests_total{result="claimed"}"#) ?? 0
            let stored = scrape.value(#"tock_requests_total{result="stored"}"#) ?? 0
            let lateness = scrape.lines(startingWith: "tock_fire_lateness_seconds")
            print(
                "[metrics] claimed \(claimed), stored \(stored), delivered \(scrape.value(#"tock_fired_total{result="delivered"}"#) ?? -1); "
                    + lateness.filter { !$0.contains("_bucket") }.joined(separator: "; "))
            #expect(claimed == Double(n))
            #expect(stored == 2)
            #expect((scrape.value(#"tock_fired_total{result="delivered"}"#) ?? 0) >= Double(n))
            #expect(scrape.value("tock_fire_lateness_seconds_count") == Double(n))
            #expect(scrape.value(#"tock_fire_lateness_seconds_bucket{le="+Inf"}"#) == Double(n))
            #expect(lateness.filter { $0.contains("_bucket{") }.count == TockMetrics.latencyBucketsSeconds.count + 1)
            #expect(scrape.value("tock_fire_lateness_seconds_sum") != nil)
            // Every gauge is true at each scrape: all 20 fired, and the 2 later ones are not claimed yet.
            #expect(scrape.value("tock_wheel_entries") == 0, "\(scrape.lines(startingWith: "tock_wheel_entries"))")

            let health = try await TestSocket.get(port: port, path: "/healthz")
            #expect(health.status == 200)
            let ready = try await TestSocket.get(port: port, path: "/readyz")
            #expect(ready.status == 200, "\(ready.body)")
            #expect(ready.body == "ready\n")
            await worker.expectCleanStop(after: out)
        }
    }
}
