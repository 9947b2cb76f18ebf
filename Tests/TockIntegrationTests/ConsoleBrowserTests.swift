import Foundation
import Testing
import TockCore
import TockKafka
import TockMonitorKit

/// The monitor's console (SPEC "The monitor's console and metrics") in a real browser: headless
/// Chromium loads `/` from a monitor of a two-worker cluster and runs its script.
@Suite struct ConsoleBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Chromium's arguments for a page `url`, with a profile of its own (it runs as root here).
    static func chromiumArguments(_ extra: [String], profile: URL) -> [String] {
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
            "--virtual-time-budget=6000",
        ] + extra
    }

    @Test("the console names both workers, shows the pending count and draws the due-load chart; /v1/messages looks ids up; the gauges have HELP")
    func console() async throws {
        let chromium = try #require(Self.chromium, "chromium is not installed (scripts/setup installs it)")
        try await ClusterFixture.run("console") { c in
            let s = c.scenario
            let monitor = try await c.startMonitor("m1")
            try await c.startBalanced(["w-a", "w-b"])
            let now = WorkerScenario.now
            // 40 messages due over the next half hour, one series, one fired now, one rejected. The
            // series starts two days from now: whatever the time of day or the day of the week, it is
            // never due within the hour (nor does it fire during the test).
            var requests = (0..<40).map { s.request(id: "c-\($0)", at: now + 120_000 + Int64($0) * 45_000) }
            requests.append(
                s.request(id: "series-1", at: now + 2 * 86_400_000, headers: [KafkaHeader(key: "tock-cron", string: "0 9 * * MON-FRI")]))
            requests.append(s.request(id: "now", at: now))
            requests.append(s.request(id: "bad", at: now, topic: "tock.internal"))
            try await s.send(requests)
            let port = monitor.httpPort
            try await waitUntil("the console counts 41 pending and both workers' summaries", within: .seconds(30)) {
                let response = try await TestSocket.get(port: port, path: "/v1/console")
                let console = try JSONDecoder().decode(ConsoleSnapshot.self, from: Data(response.body.utf8))
                return console.pending == 41 && console.workers.filter { $0.live && $0.summary != nil }.count == 2
                    && console.rejected["topic-not-allowed"] == 1
            }

            let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(s.name)")
            defer { try? FileManager.default.removeItem(at: profile) }
            let url = "http://127.0.0.1:\(port)/"
            let dump = try await CLIRun.run(
                Self.chromiumArguments(["--dump-dom", url], profile: profile), executable: URL(fileURLWithPath: chromium))
            #expect(dump.status == 0, "\(dump.stderr.suffix(2_000))")
            let dom = dump.stdout
            #expect(dom.contains(">w-a<") && dom.contains(">w-b<"), "\(dom.suffix(3_000))")
            #expect(dom.contains("<b id=\"pending\">41</b>"), "\(dom.suffix(3_000))")
            let bars = dom.components(separatedBy: "<rect class=\"bar").count - 1
            let filled = dom.components(separatedBy: "data-count=\"").dropFirst().filter { !$0.hasPrefix("0\"") }.count
            #expect(bars == 60 && filled >= 20, "\(bars) bars, \(filled) with messages")
            #expect(dom.contains("topic-not-allowed"))

            let screenshot =
                ProcessInfo.processInfo.environment["TOCK_CONSOLE_SCREENSHOT"].map { URL(fileURLWithPath: $0) }
                ?? profile.appendingPathExtension("png")
            let shot = try await CLIRun.run(
                Self.chromiumArguments(["--window-size=1280,1150", "--screenshot=\(screenshot.path)", url], profile: profile),
                executable: URL(fileURLWithPath: chromium))
            let size = (try? FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
            #expect(shot.status == 0 && size > 20_000, "screenshot \(size) bytes: \(shot.stderr.suffix(1_000))")
            print("[console] DOM \(dom.count) characters, \(bars) bars (\(filled) with messages); screenshot \(screenshot.path), \(size) bytes")

            let lookup = try await TestSocket.get(port: port, path: "/v1/messages/c-3")
            let message = try JSONDecoder().decode(MessageLookup.self, from: Data(lookup.body.utf8))
            #expect(message.state == "pending" && message.dueMillis == now + 120_000 + 3 * 45_000 && message.attempts == 0)
            let series = try JSONDecoder().decode(
                MessageLookup.self, from: Data(try await TestSocket.get(port: port, path: "/v1/messages/series-1").body.utf8))
            #expect(series.series?.contains("0 9 * * MON-FRI") == true && series.fired == 0)
            // A standby's console shows the same workers and figures, read from Redis itself.
            let standby = try await c.startMonitor("m2")
            try await waitUntil("the standby's console lists both live workers and 41 pending", within: .seconds(15)) {
                let response = try await TestSocket.get(port: standby.httpPort, path: "/v1/console")
                let console = try JSONDecoder().decode(ConsoleSnapshot.self, from: Data(response.body.utf8))
                return !console.leading && console.pending == 41 && console.workers.filter(\.live).map(\.id).sorted() == ["w-a", "w-b"]
            }
            let standbyMetrics = try await TestSocket.get(port: standby.httpPort, path: "/metrics").body
            #expect(standbyMetrics.contains("tock_pending_messages 41"), "\(standbyMetrics)")
            let metrics = try await TestSocket.get(port: port, path: "/metrics").body
            #expect(metrics.contains("# HELP tock_pending_messages ") && metrics.contains("tock_pending_messages 41"), "\(metrics)")
            #expect(metrics.contains("tock_due_messages{within=\"1h\"} 40"), "\(metrics)")
        }
    }
}
