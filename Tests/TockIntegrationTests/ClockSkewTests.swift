import Foundation
import Testing
import TockCore
import TockMonitorKit
import TockStore

/// SPEC guarantee 5 (clocks) with real processes, one of them on a wrong clock: libfaketime
/// (Debian package `faketime`, installed by scripts/setup) shifts every clock a worker reads. The
/// test's own clock is the host's, as is Redis's (the cluster's reference): a record that arrives
/// before its `tock-at` by this process's clock, or whose CreateTime is before it, is early.
@Suite("Clock skew", .serialized)
struct ClockSkewTests {
    static let faketimeLibrary = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    /// The environment of a worker whose wall clock reads `offset` (libfaketime's syntax: `+2s`,
    /// `-2s`), as on a host whose wall clock is wrong: its monotonic clocks stay true
    /// (`FAKETIME_DONT_FAKE_MONOTONIC`; otherwise libfaketime 0.9.10 makes CLOCK_MONOTONIC and
    /// CLOCK_BOOTTIME read epoch times, and the timers libdispatch arms on them, every
    /// `Task.sleep`, never fire), and so do the timers on them (`timerShim`).
    static func skewed(_ offset: String, _ extra: [String: String] = [:]) throws -> [String: String] {
        try #require(
            FileManager.default.fileExists(atPath: faketimeLibrary),
            "libfaketime is missing: install the Debian package faketime (scripts/setup does)")
        // TOCK_TEST_FAKETIME_PLAIN=1: the outside test's exact reproduction (libfaketime alone), to compare.
        if ProcessInfo.processInfo.environment["TOCK_TEST_FAKETIME_PLAIN"] == "1" {
            return ["LD_PRELOAD": faketimeLibrary, "FAKETIME": offset].merging(extra) { _, new in new }
        }
        let preload = [timerShim, faketimeLibrary].compactMap { $0 }.joined(separator: ":")
        return ["LD_PRELOAD": preload, "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1"].merging(extra) { _, new in new }
    }

    /// Two holes in libfaketime 0.9.10 that a wrong wall clock does not have, plugged by a small
    /// library preloaded before it:
    /// - it moves the deadline of every absolute `timerfd_settime` by its offset, also on a
    ///   monotonic timer whose clock it does not fake: a process 2 s fast then re-arms its timers
    ///   in a busy loop for every `Task.sleep` (a core at 100 %), one 2 s slow sleeps 2 s longer
    ///   each time. Such timers go to the kernel unchanged here (wall-clock ones on to libfaketime);
    /// - it converts the deadline of `pthread_cond_timedwait` but not of C11's `cnd_timedwait`,
    ///   which librdkafka uses: a process 2 s slow spins on every wait of librdkafka's threads,
    ///   one 2 s fast waits 2 s longer. `cnd_timedwait` goes through `pthread_cond_timedwait` here.
    /// Built once per test run with the C compiler; nil (plain libfaketime) if there is none.
    static let timerShim: String? = {
        let source = #"""
            #define _GNU_SOURCE
            #include <dlfcn.h>
            #include <errno.h>
            #include <pthread.h>
            #include <threads.h>
            #include <time.h>
            #include <unistd.h>
            #include <sys/syscall.h>
            #include <sys/timerfd.h>
            static int clocks[65536];
            int timerfd_create(int clockid, int flags) {
                int fd = (int)syscall(SYS_timerfd_create, clockid, flags);
                if (fd >= 0 && fd < 65536) clocks[fd] = clockid + 1;
                return fd;
            }
            int timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old) {
                int clockid = fd >= 0 && fd < 65536 ? clocks[fd] - 1 : -1;
                if (clockid == CLOCK_MONOTONIC || clockid == CLOCK_BOOTTIME)
                    return (int)syscall(SYS_timerfd_settime, fd, flags, value, old);
                int (*next)(int, int, const struct itimerspec *, struct itimerspec *) = dlsym(RTLD_NEXT, "timerfd_settime");
                return next(fd, flags, value, old);
            }
            int cnd_timedwait(cnd_t *restrict cond, mtx_t *restrict mutex, const struct timespec *restrict at) {
                int r = pthread_cond_timedwait((pthread_cond_t *)cond, (pthread_mutex_t *)mutex, at);
                return r == 0 ? thrd_success : r == ETIMEDOUT ? thrd_timedout : thrd_error;
            }
            """#
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tock-timer-shim-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("shim.c")
        let library = directory.appendingPathComponent("libtocktimershim.so")
        guard (try? source.write(to: file, atomically: true, encoding: .utf8)) != nil else { return nil }
        for compiler in ["cc", "clang"] {
            let (status, output) = ChildProcess.run(
                [compiler, "-shared", "-fPIC", "-O2", "-o", library.path, file.path, "-ldl", "-lpthread"], mergingStandardError: true)
            if status == 0 { return library.path }
            print("[clock] \(compiler) could not build the timer shim (status \(status)): \(output.suffix(500))")
        }
        return nil
    }()

    // MARK: - A worker 2 s fast

    @Test("a worker whose clock runs 2 s fast publishes nothing early (by the consumer's clock and by CreateTime); it corrects and says so")
    func fastWorker() async throws {
        try await ClusterFixture.run("clk-fast", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            let port = try TestSocket.freePort()
            let balanced = try await c.startBalanced(["w-fast", "w-ok"], env: ["w-fast": try Self.skewed("+2s", ["TOCK_HTTP_PORT": "\(port)"])])
                .balanced

            let fastShards = Set(balanced.shards(of: "w-fast"))
            let timing = try await Self.deliver(1_000, label: "fast", in: c, collector: out, skewedShards: fastShards)
            let ofFast = timing.skewedLateness.count
            print(
                "[clock-fast] w-fast (+2 s) owned shards \(fastShards.sorted()) (\(ofFast) messages); CPU w-fast \(Self.cpuSeconds(c.worker("w-fast"))) s, "
                    + "w-ok \(Self.cpuSeconds(c.worker("w-ok"))) s; \(timing)")
            timing.expectOnTime()

            // It says so: the metric, /readyz (ready: it corrects) and the console.
            let metrics = try await MetricsScrape.get(port: port)
            let offset = metrics.value("tock_clock_offset_seconds")
            let readyz = try await TestSocket.get(port: port, path: "/readyz")
            let monitorOffset = try await MetricsScrape.get(port: monitor.httpPort).value("tock_clock_offset_seconds")
            let console = try await Self.consoleClock(monitor, worker: "w-fast")
            print(
                "[clock-fast] w-fast: tock_clock_offset_seconds \(offset.map { "\($0)" } ?? "absent"), /readyz \(readyz.status) \(readyz.body.debugDescription); "
                    + "monitor's offset \(monitorOffset.map { "\($0)" } ?? "absent"); console: \(console ?? [:])")
            #expect(offset.map { (-2.1)...(-1.9) ~= $0 } ?? false, "tock_clock_offset_seconds \(String(describing: offset))")
            #expect(monitorOffset.map { abs($0) < 0.05 } ?? false, "the monitor's tock_clock_offset_seconds \(String(describing: monitorOffset))")
            #expect(readyz.status == 200 && readyz.body.contains("clock"), "\(readyz.status) \(readyz.body)")
            #expect(console?["state"] as? String == "corrected", "\(console ?? [:])")
            #expect((console?["offsetMillis"] as? Double).map { (-2_100)...(-1_900) ~= $0 } ?? false, "\(console ?? [:])")
            #expect(c.worker("w-fast").log.contains("clock"), "the log says nothing about the clock")
            await c.expectCleanStop(workers: ["w-fast", "w-ok"], monitors: [monitor])
        }
    }

    // MARK: - A worker 2 s slow

    /// A heartbeat stamped by a clock 2 s slow looks 2 s old when it is sent: within the 3 s
    /// heartbeat timeout only a 500 ms heartbeat interval and 500 ms of delay are left, and at
    /// 2.7 s slow not even the interval.
    @Test(
        "a worker whose clock runs 2 s (or 2.7 s) slow is not taken for dead and alive by turns, and publishes on time", arguments: ["-2s", "-2.7s"])
    func slowWorker(offset: String) async throws {
        try await ClusterFixture.run("clk-slow", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            try await c.startWorkers(["w-slow", "w-ok"], env: ["w-slow": try Self.skewed(offset)])
            // Measured on, even when the two never show live and balanced (then it failed already).
            var balanced: ClusterSnapshot?
            do { balanced = try await c.waitBalanced(live: ["w-slow", "w-ok"]) } catch { Issue.record(error) }
            let slowShards = Set(balanced?.shards(of: "w-slow") ?? [])
            let monitorLogStart = monitor.log.count
            let workerLogStart = ["w-slow": c.worker("w-slow").log.count, "w-ok": c.worker("w-ok").log.count]

            // The monitor's view, every 100 ms while the messages fire: was w-slow ever not live?
            let watch = Task {
                var views = 0
                var notLive = 0
                while !Task.isCancelled {
                    if let view = await c.leaderView() {
                        views += 1
                        if view.workers.first(where: { $0.id == "w-slow" })?.live != true { notLive += 1 }
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return (views, notLive)
            }
            let timing = try await Self.deliver(
                1_000, label: "slow", in: c, collector: out, spacingMillis: 10, skewedShards: slowShards)
            watch.cancel()
            let (views, notLive) = await watch.value
            let reassigned = String(monitor.log.dropFirst(monitorLogStart)).components(separatedBy: "reassigned shards").count - 1
            let changes = workerLogStart.map { id, start in
                (id, String(c.worker(id).log.dropFirst(start)).components(separatedBy: "assignment changed").count - 1)
            }
            print(
                "[clock-slow] w-slow (\(offset)): the monitor reassigned shards \(reassigned)x; w-slow not live in \(notLive) of \(views) views; "
                    + "CPU w-slow \(Self.cpuSeconds(c.worker("w-slow"))) s, w-ok \(Self.cpuSeconds(c.worker("w-ok"))) s; "
                    + "'assignment changed' \(changes.sorted { $0.0 < $1.0 }); \(timing)")
            #expect(reassigned == 0, "the monitor moved shards \(reassigned) times")
            #expect(notLive == 0, "w-slow was not live in \(notLive) of \(views) views")
            #expect(changes.allSatisfy { $0.1 == 0 }, "\(changes)")
            timing.expectOnTime()
            await c.expectCleanStop(workers: ["w-slow", "w-ok"], monitors: [monitor])
        }
    }

    // MARK: - The fast worker alone

    @Test("a worker 2 s fast that holds every shard delivers everything, none early")
    func fastWorkerAlone() async throws {
        try await ClusterFixture.run("clk-alone", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            try await c.startBalanced(["w-fast"], env: ["w-fast": try Self.skewed("+2s")])
            let timing = try await Self.deliver(1_000, label: "alone", in: c, collector: out, skewedShards: Set(0..<8))
            print("[clock-alone] w-fast (+2 s) owns every shard; CPU \(Self.cpuSeconds(c.worker("w-fast"))) s; \(timing)")
            timing.expectOnTime()
            await c.expectCleanStop(workers: ["w-fast"], monitors: [monitor])
        }
    }

    // MARK: - clock.onSkew: hold

    @Test("with clock.onSkew hold, a worker 2 s fast fires nothing: its shards go to the other worker, /readyz says why")
    func holdingWorker() async throws {
        try await ClusterFixture.run("clk-hold", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            let port = try TestSocket.freePort()
            try await c.startWorkers(
                ["w-fast", "w-ok"], env: ["w-fast": try Self.skewed("+2s", ["TOCK_HTTP_PORT": "\(port)", "TOCK_CLOCK_ON_SKEW": "hold"])])
            // Both live; every shard on w-ok.
            var view: ClusterSnapshot?
            do {
                try await waitUntil("w-ok owns every shard and w-fast is live", within: .seconds(20)) {
                    view = await c.leaderView()
                    guard let view else { return false }
                    return view.liveWorkers == ["w-fast", "w-ok"] && view.shards.allSatisfy { $0.owner == "w-ok" }
                }
            } catch {
                Issue.record("\(error); the view: \(view.map { "\($0.workers.map { ($0.id, $0.live, $0.shards) })" } ?? "none")")
                throw error
            }
            let readyz = try await TestSocket.get(port: port, path: "/readyz")
            let offset = try await MetricsScrape.get(port: port).value("tock_clock_offset_seconds")
            let timing = try await Self.deliver(500, label: "hold", in: c, collector: out, skewedShards: [])
            let fired = try await MetricsScrape.get(port: port).value(#"tock_fired_total{result="delivered"}"#) ?? 0
            print(
                "[clock-hold] w-fast (+2 s, hold): /readyz \(readyz.status) \(readyz.body.debugDescription), offset \(offset.map { "\($0)" } ?? "absent"), "
                    + "published \(Int(fired)); CPU w-fast \(Self.cpuSeconds(c.worker("w-fast"))) s, w-ok \(Self.cpuSeconds(c.worker("w-ok"))) s; \(timing)"
            )
            #expect(readyz.status == 503 && readyz.body.contains("clock"), "\(readyz.status) \(readyz.body)")
            #expect(offset.map { (-2.1)...(-1.9) ~= $0 } ?? false)
            #expect(fired == 0)
            timing.expectOnTime()
            await c.expectCleanStop(workers: ["w-fast", "w-ok"], monitors: [monitor])
        }
    }

    // MARK: - A clock stepped while the worker runs

    @Test(
        "a worker's wall clock stepped 2 s ahead while it fires, then back (clock.onSkew hold): nothing early meanwhile, it hands its shards over, and takes shards again"
    )
    func steppedClock() async throws {
        try await ClusterFixture.run("clk-step", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            let port = try TestSocket.freePort()
            // libfaketime reads the offset from this file, at most a second old.
            let offsetFile = FileManager.default.temporaryDirectory.appendingPathComponent("faketime-\(s.name)")
            try "+0s".write(to: offsetFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: offsetFile) }
            var env = try Self.skewed("+0s", ["TOCK_HTTP_PORT": "\(port)", "TOCK_CLOCK_ON_SKEW": "hold"])
            env.removeValue(forKey: "FAKETIME")
            env.merge(["FAKETIME_TIMESTAMP_FILE": offsetFile.path, "FAKETIME_CACHE_DURATION": "1"]) { _, new in new }
            let balanced = try await c.startBalanced(["w-step", "w-ok"], env: ["w-step": env]).balanced
            let stepShards = Set(balanced.shards(of: "w-step"))

            // 750 messages due over 15 s from 3 s ahead; the clock steps 2 s ahead 5 s in, and back 6 s later.
            let (start, ids) = try await s.sendSpaced("step", count: 750, storedIn: c.store) { 3_000 + Int64($0) * 20 }
            try await Task.sleep(for: .milliseconds(max(0, start + 5_000 - WorkerScenario.now)))
            try "+2s".write(to: offsetFile, atomically: true, encoding: .utf8)
            let steppedAt = WorkerScenario.now
            var handedOver: Int64?
            do {
                try await waitUntil("w-step holds and w-ok owns every shard", within: .seconds(10)) {
                    guard let view = await c.leaderView() else { return false }
                    return view.liveWorkers.contains("w-step") && view.shards.allSatisfy { $0.owner == "w-ok" }
                }
                handedOver = WorkerScenario.now - steppedAt
            } catch { Issue.record(error) }
            let readyz = try await TestSocket.get(port: port, path: "/readyz")
            try await Task.sleep(for: .milliseconds(max(0, steppedAt + 6_000 - WorkerScenario.now)))
            try "+0s".write(to: offsetFile, atomically: true, encoding: .utf8)
            let steppedBackAt = WorkerScenario.now
            var backAfter: Int64?
            do {
                let view = try await c.waitBalanced(live: ["w-step", "w-ok"], within: .seconds(15))
                backAfter = view.takenAtMillis - steppedBackAt
            } catch { Issue.record(error) }

            await out.waitDistinct(ids.count, on: s.outputTopic, within: .seconds(40)) { $0.header("tock-id") }
            await out.settle(on: s.outputTopic)
            let timing = Self.timing(out.on(s.outputTopic), expected: Set(ids), store: c.store, skewedShards: stepShards)
            let log = c.worker("w-step").log
            print(
                "[clock-step] w-step (shards \(stepShards.sorted())) stepped +2 s at +\(steppedAt - start) ms: its shards on w-ok "
                    + "\(handedOver.map { "\($0) ms" } ?? "never") later, /readyz \(readyz.status) \(readyz.body.debugDescription); stepped back at "
                    + "+\(steppedBackAt - start) ms: balanced again \(backAfter.map { "\($0) ms" } ?? "never") later; \(timing)")
            #expect(handedOver != nil && backAfter != nil)
            #expect(readyz.status == 503 && readyz.body.contains("firing nothing"), "\(readyz.status) \(readyz.body)")
            #expect(log.contains("firing nothing while the clock cannot be trusted") && log.contains("firing again"), "\(log.suffix(3_000))")
            timing.expectOnTime()
            await c.expectCleanStop(workers: ["w-step", "w-ok"], monitors: [monitor])
        }
    }

    // MARK: - Helpers

    /// What reached the output topic and when, by the test's clock.
    struct Timing: CustomStringConvertible {
        var summary: DeliverySummary
        var arrivals: [OutputCollector.Arrival]
        /// Records that arrived before their tock-at, with how early (ms).
        var earlyArrivals: [(String, Int64)]
        /// Arrival time − tock-at, sorted: of every record, and of those of the skewed worker's shards.
        var lateness: [Int64]
        var skewedLateness: [Int64]
        /// The same, of the other workers' records: what the load alone made of lateness.
        var otherLateness: [Int64]

        static func percentile(_ sorted: [Int64], _ p: Double) -> Int64 { sorted.isEmpty ? 0 : sorted[Int(Double(sorted.count - 1) * p)] }

        /// All delivered once, none early by the consumer's clock or by CreateTime, and the skewed
        /// worker's messages (all, when it fired none) on time: a clock 2 s slow, uncorrected,
        /// makes them 2 s late. Judged by the median and the 90th percentile: on a loaded 2-core
        /// machine any worker's Redis calls can time out, and the retries of those few are late
        /// whatever the clocks say (the maximum is printed). Where a worker on a true clock fired
        /// beside it, the skewed one is judged against it: under the whole suite both were seen
        /// 400 ms late at the median, which is the load, not the clock.
        func expectOnTime(medianMillis: Int64 = 300, p90Millis: Int64 = 1_000, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(summary.missing.isEmpty, "\(self)", sourceLocation: sourceLocation)
            #expect(summary.duplicates.isEmpty, "\(self)", sourceLocation: sourceLocation)
            #expect(summary.unexpected.isEmpty, "\(self)", sourceLocation: sourceLocation)
            #expect(summary.early.isEmpty, "CreateTime before tock-at: \(self)", sourceLocation: sourceLocation)
            #expect(earlyArrivals.isEmpty, "arrived before tock-at: \(self)", sourceLocation: sourceLocation)
            let judged = skewedLateness.isEmpty ? lateness : skewedLateness
            let (medianFloor, p90Floor) =
                skewedLateness.isEmpty || otherLateness.isEmpty
                ? (Int64(0), Int64(0)) : (max(0, Self.percentile(otherLateness, 0.5)), max(0, Self.percentile(otherLateness, 0.9)))
            #expect(Self.percentile(judged, 0.5) <= medianFloor + medianMillis, "\(self)", sourceLocation: sourceLocation)
            #expect(Self.percentile(judged, 0.9) <= p90Floor + p90Millis, "\(self)", sourceLocation: sourceLocation)
        }

        var description: String {
            "\(earlyArrivals.count) arrived early (up to \(earlyArrivals.map(\.1).max() ?? 0) ms), "
                + "\(summary.early.count) with a CreateTime before tock-at (up to \(summary.early.map(\.1).max() ?? 0) ms); lateness by arrival: "
                + "median \(Self.percentile(lateness, 0.5)) ms, p90 \(Self.percentile(lateness, 0.9)) ms, max \(lateness.last ?? 0) ms; "
                + "of the skewed worker's \(skewedLateness.count): median \(Self.percentile(skewedLateness, 0.5)) ms, "
                + "p90 \(Self.percentile(skewedLateness, 0.9)) ms, max \(skewedLateness.last ?? 0) ms; of the others': median "
                + "\(Self.percentile(otherLateness, 0.5)) ms, p90 \(Self.percentile(otherLateness, 0.9)) ms; \(summary.missing.count) not delivered within "
                + "30 s of the last due time; \(summary)"
        }
    }

    /// Schedules `n` messages due from 3 s ahead, one per `spacingMillis`, all stored before the
    /// first is due, and waits for them (up to 30 s past the last due time). `skewedShards`: the
    /// shards of the worker whose clock is wrong.
    static func deliver(
        _ n: Int, label: String, in c: ClusterFixture, collector out: OutputCollector, spacingMillis: Int64 = 5, skewedShards: Set<Int>
    ) async throws -> Timing {
        let s = c.scenario
        let (start, ids) = try await s.sendSpaced(label, count: n, storedIn: c.store) { 3_000 + Int64($0) * spacingMillis }
        let lastDue = start + 3_000 + Int64(n - 1) * spacingMillis
        let waitMillis = lastDue + 30_000 - WorkerScenario.now
        await out.waitDistinct(n, on: s.outputTopic, within: .milliseconds(waitMillis)) { $0.header("tock-id") }
        await out.settle(on: s.outputTopic)
        return timing(out.on(s.outputTopic), expected: Set(ids), store: c.store, skewedShards: skewedShards)
    }

    /// What arrived, by the test's clock.
    static func timing(_ arrivals: [OutputCollector.Arrival], expected ids: Set<String>, store: ScheduleStore, skewedShards: Set<Int>) -> Timing {
        var early: [(String, Int64)] = []
        var lateness: [Int64] = []
        var skewed: [Int64] = []
        var others: [Int64] = []
        for arrival in arrivals {
            guard let id = arrival.header("tock-id"), let due = arrival.header("tock-at").flatMap({ Int64($0) }) else { continue }
            if arrival.arrivedMillis < due { early.append((id, due - arrival.arrivedMillis)) }
            lateness.append(arrival.arrivedMillis - due)
            if skewedShards.contains(store.shardMap.shard(of: id)) {
                skewed.append(arrival.arrivedMillis - due)
            } else {
                others.append(arrival.arrivedMillis - due)
            }
        }
        return Timing(
            summary: DeliverySummary(arrivals, expected: ids) { $0.header("tock-id") }, arrivals: arrivals,
            earlyArrivals: early.sorted { $0.1 > $1.1 }, lateness: lateness.sorted(), skewedLateness: skewed.sorted(),
            otherLateness: others.sorted())
    }

    /// CPU seconds a process has used (from /proc): a skewed worker that spins shows here.
    static func cpuSeconds(_ process: WorkerProcessHandle) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, in clock ticks).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The `clock` object of `worker`'s summary on the monitor's `/v1/console`, if any.
    static func consoleClock(_ monitor: MonitorProcessHandle, worker: String) async throws -> [String: Any]? {
        var clock: [String: Any]?
        // The console refreshes every 2 s, and a summary comes with each heartbeat.
        try? await waitUntil("the console shows \(worker)'s clock", within: .seconds(6), every: .milliseconds(200)) {
            let response = try await TestSocket.get(port: monitor.httpPort, path: "/v1/console")
            let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
            let workers = json?["workers"] as? [[String: Any]] ?? []
            let summary = workers.first { $0["id"] as? String == worker }?["summary"] as? [String: Any]
            clock = summary?["clock"] as? [String: Any]
            return clock != nil
        }
        return clock
    }
}
