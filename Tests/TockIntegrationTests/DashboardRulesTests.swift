import Foundation
import Testing
import TockKafka

/// The compose stack's Grafana dashboard (`compose/grafana/dashboards/tock.json`) and Prometheus
/// alert rules (`compose/prometheus/alerts.yml`) against what a real monitor and worker export:
/// every metric they name must be on a `/metrics`, and promtool must accept the rules.
@Suite struct DashboardRulesTests {
    static let dashboardPath = "compose/grafana/dashboards/tock.json"
    static let rulesPath = "compose/prometheus/alerts.yml"
    static let prometheusPath = "compose/prometheus/prometheus.yml"
    static let promtool = URL(fileURLWithPath: "/usr/bin/promtool")

    /// The dashboard's panels, those inside (collapsed) rows included, depth first.
    static func panels(_ list: [[String: Any]]) -> [[String: Any]] {
        list.flatMap { [$0] + panels($0["panels"] as? [[String: Any]] ?? []) }
    }

    /// The `expr` of each rule of a Prometheus rules file, read line by line (the test target
    /// does not depend on Yams): `expr: <value>`, quoted or not, or a block (`expr: |`, `>-`, …)
    /// of the lines indented deeper than the key.
    static func ruleExpressions(_ yaml: String) -> [String] {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        var exprs: [String] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            var content = line.drop { $0 == " " }
            if content.hasPrefix("- ") { content = content.dropFirst(2).drop { $0 == " " } }
            guard content.hasPrefix("expr:") else { continue }
            let keyIndent = line.count - content.count
            var value = content.dropFirst("expr:".count).trimmingCharacters(in: .whitespaces)
            if let first = value.first, "|>".contains(first) {
                var block: [String] = []
                while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).isEmpty || indent(lines[index]) > keyIndent {
                    block.append(lines[index].trimmingCharacters(in: .whitespaces))
                    index += 1
                }
                value = block.joined(separator: first == "|" ? "\n" : " ").trimmingCharacters(in: .whitespacesAndNewlines)
            } else if value.count >= 2, let quote = value.first, "\"'".contains(quote), value.last == quote {
                value = String(value.dropFirst().dropLast())
                value =
                    quote == "'"
                    ? value.replacingOccurrences(of: "''", with: "'")
                    : value.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
            }
            exprs.append(value)
        }
        return exprs
    }

    /// The Tock metrics a PromQL expression reads, by base name (a histogram's `_bucket`, `_sum`
    /// and `_count` series name the histogram).
    static func metricNames(_ expr: String) -> Set<String> {
        Set(
            expr.matches(of: /tock_[a-z0-9_]+/).map { match in
                let name = String(match.output)
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
                return name
            })
    }

    /// Metric names of the `# TYPE <name> <type>` and `# HELP <name> …` lines of an exposition.
    static func declared(_ exposition: String, _ kind: String) -> Set<String> {
        Set(
            exposition.split(separator: "\n").compactMap { line in
                line.hasPrefix("# \(kind) ") ? line.dropFirst(kind.count + 3).split(separator: " ").first.map(String.init) : nil
            })
    }

    @Test(
        "every metric the Grafana dashboard and the alert rules name is exported by a real worker or monitor, with HELP; promtool accepts the rules")
    func dashboardAndRulesUseExportedMetrics() async throws {
        let root = TestStack.repositoryRoot

        // The dashboard: loads, uid tock, its datasource on every panel and target.
        let dashboardData = try Data(contentsOf: root.appendingPathComponent(Self.dashboardPath))
        let dashboard = try #require(
            try JSONSerialization.jsonObject(with: dashboardData) as? [String: Any], "\(Self.dashboardPath) is not a JSON object")
        #expect(dashboard["uid"] as? String == "tock")
        #expect(dashboard["title"] as? String == "Tock")
        #expect(dashboard["refresh"] as? String == "10s")
        #expect((dashboard["time"] as? [String: Any])?["from"] as? String == "now-1h")
        let panels = Self.panels(dashboard["panels"] as? [[String: Any]] ?? [])
        let graphs = panels.filter { $0["type"] as? String != "row" }
        #expect(!graphs.isEmpty, "the dashboard has no panels")
        var panelExprs: [String] = []
        for panel in graphs {
            let title = panel["title"] as? String ?? "?"
            #expect(
                (panel["datasource"] as? [String: Any])?["uid"] as? String == "prometheus",
                "panel \(title): datasource \(panel["datasource"] ?? "none")")
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "panel \(title) has no targets")
            for target in targets {
                #expect(
                    (target["datasource"] as? [String: Any])?["uid"] as? String == "prometheus",
                    "a target of \(title): datasource \(target["datasource"] ?? "none")")
                let expr = target["expr"] as? String ?? ""
                #expect(!expr.isEmpty, "a target of \(title) has no expr")
                panelExprs.append(expr)
            }
        }
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(Set(ids).count == panels.count, "panel ids are missing or repeated: \(ids)")

        // The rules: each rule's expr, and the scrape jobs they name exist.
        let rulesText = try String(contentsOf: root.appendingPathComponent(Self.rulesPath), encoding: .utf8)
        let ruleExprs = Self.ruleExpressions(rulesText)
        let ruleCount = rulesText.split(separator: "\n").filter { $0.contains(/^\s*- (alert|record):/) }.count
        #expect(ruleExprs.count == ruleCount && ruleCount > 0, "\(ruleExprs.count) exprs read for \(ruleCount) rules: \(ruleExprs)")
        let prometheusConfig = try String(contentsOf: root.appendingPathComponent(Self.prometheusPath), encoding: .utf8)
        let jobs = Set(prometheusConfig.matches(of: /job_name:\s*([A-Za-z0-9_-]+)/).map { String($0.output.1) })
        let namedJobs = Set(ruleExprs.flatMap { $0.matches(of: /job="([^"]+)"/).map { String($0.output.1) } })
        #expect(namedJobs.isSubset(of: jobs), "rules name scrape jobs \(namedJobs.subtracting(jobs).sorted()); prometheus.yml has \(jobs.sorted())")

        let used = (panelExprs + ruleExprs).reduce(into: Set<String>()) { $0.formUnion(Self.metricNames($1)) }
        #expect(!used.isEmpty)

        // promtool: syntax, PromQL, templates, duplicates.
        let check = try await CLIRun.run(["check", "rules", root.appendingPathComponent(Self.rulesPath).path], executable: Self.promtool)
        let promtoolOutput = (check.stdout + check.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(check.status == 0, "promtool check rules: \(promtoolOutput)")
        #expect(promtoolOutput.contains("SUCCESS: \(ruleCount) rules found"), "\(promtoolOutput)")
        let verdict = promtoolOutput.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""

        // What a real monitor and worker export once they fired, rejected and rate-limited.
        try await ClusterFixture.run("dashboard") { c in
            let s = c.scenario
            let limited = try await s.createTopic("lim", partitions: 1)
            let monitor = try await c.startMonitor("m1")
            let port = try TestSocket.freePort()
            try await c.startBalanced(["w-a"], env: ["w-a": ["TOCK_HTTP_PORT": "\(port)", "TOCK_OUTPUT_RATE_LIMITS": "lim-*=100"]])

            let now = WorkerScenario.now
            try await s.send([
                s.request(id: "limited-now", at: now, topic: limited),
                s.request(id: "plain-now", at: now),
                s.request(id: "later", at: now + 3_600_000),
                s.request(id: "bad", at: now, topic: "tock.internal"),
            ])
            try await waitUntil("the worker's /metrics shows tock_fire_lateness_seconds_count", within: .seconds(30)) {
                !(try await MetricsScrape.get(port: port).lines(startingWith: "tock_fire_lateness_seconds_count").isEmpty)
            }

            // The delivery report and the monitor's next tick may come a moment after the fire.
            var worker = "", monitorText = ""
            var exported = Set<String>()
            let deadline = ContinuousClock.now.advanced(by: .seconds(15))
            repeat {
                worker = try await MetricsScrape.get(port: port).text
                monitorText = try await MetricsScrape.get(port: monitor.httpPort).text
                exported = Self.declared(worker, "TYPE").union(Self.declared(monitorText, "TYPE"))
                if used.isSubset(of: exported) { break }
                try await Task.sleep(for: .milliseconds(200))
            } while ContinuousClock.now < deadline

            let missing = used.subtracting(exported)
            #expect(
                missing.isEmpty,
                "used by the dashboard or the rules but not on the worker's or the monitor's /metrics: \(missing.sorted()); exported: \(exported.sorted())"
            )
            for (process, text) in [("worker", worker), ("monitor", monitorText)] {
                let withoutHelp = Self.declared(text, "TYPE").subtracting(Self.declared(text, "HELP"))
                #expect(withoutHelp.isEmpty, "the \(process)'s metrics without # HELP: \(withoutHelp.sorted())")
            }
            let rows = panels.count - graphs.count
            print(
                "[dashboard] \(graphs.count) panels in \(rows) rows, \(panelExprs.count) expressions and \(ruleExprs.count) rules, "
                    + "\(used.count) metric names, \(missing.isEmpty ? "all exported" : "\(missing.count) missing: \(missing.sorted())"); promtool: \(verdict)"
            )
        }
    }
}
