import Crypto
import Foundation
import Testing
import TockKafka

/// The operators' API on a real tock-monitor, with a real worker, Redis and broker (SPEC "The
/// operators' API"): access by token and role, writes that become requests and are delivered,
/// dead letters read back and requeued, and the audit trail.
@Suite("Operators' API", .serialized)
struct OperatorsAPITests {
    static let writeToken = "w-\(UInt64.random(in: 0...UInt64.max))"
    static let readToken = "r-\(UInt64.random(in: 0...UInt64.max))"

    static func digest(_ token: String) -> String { SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// A scenario with a worker and a monitor whose API knows the two tokens, its audit topic
    /// collected with the output and dead topics.
    func withAPI(
        _ label: String, workerConfig: String? = nil, monitorEnv: [String: String] = [:],
        _ body: (WorkerScenario, MonitorProcessHandle, OutputCollector, String) async throws -> Void
    ) async throws {
        let s = try await WorkerScenario(label)
        let auditTopic = "audit-\(s.name)"
        try await s.withWorker(config: workerConfig) { _ in
            let env = [
                "TOCK_API_TOKENS": "ops:write:\(Self.digest(Self.writeToken)),viewer:read:\(Self.digest(Self.readToken))",
                "TOCK_API_AUDIT_TOPIC": auditTopic,
            ].merging(monitorEnv) { _, new in new }
            let monitor = try await s.startMonitor(env: env, apiToken: Self.readToken)
            try await withCleanup({ await monitor.kill9() }) {
                try await s.withCollector([s.outputTopic, s.deadTopic, auditTopic]) { out in try await body(s, monitor, out, auditTopic) }
            }
        }
    }

    func call(
        _ monitor: MonitorProcessHandle, _ method: String, _ path: String, token: String? = Self.writeToken, json: String? = nil
    ) async throws -> (status: Int, body: [String: Any]) {
        var headers: [String: String] = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let response = try await TestSocket.request(
            port: monitor.httpPort, method: method, path: path, headers: headers, body: Array((json ?? "").utf8))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        return (response.status, object)
    }

    @Test(
        "every endpoint: no token and a wrong one 401, a read token 403 on writes, a write token passes; every write audited, no token in any record")
    func access() async throws {
        try await withAPI("api-access") { s, monitor, out, auditTopic in
            let endpoints: [(method: String, path: String, json: String?, write: Bool, allowed: Int)] = [
                ("GET", "/v1/cluster", nil, false, 200),
                ("GET", "/v1/console", nil, false, 200),
                ("GET", "/v1/messages/nope", nil, false, 200),
                ("GET", "/v1/dead?limit=5", nil, false, 200),
                ("POST", "/v1/messages", #"{"topic":"\#(s.outputTopic)","delay":"1h","id":"acc-1"}"#, true, 202),
                ("PATCH", "/v1/messages/acc-1", #"{"topic":"\#(s.outputTopic)","delay":"2h"}"#, true, 202),
                ("DELETE", "/v1/messages/acc-1", nil, true, 202),
                ("POST", "/v1/dead/none-such/requeue", nil, true, 404),
                ("POST", "/v1/series/none-such/pause", nil, true, 404),
                ("POST", "/v1/series/none-such/resume", nil, true, 404),
                ("DELETE", "/v1/tags/acc-tag", nil, true, 202),
                ("GET", "/v1/jobs/none-such", nil, false, 404),
            ]
            var writes = 0
            for endpoint in endpoints {
                for (token, expected) in [
                    (nil, 401), ("wrong-token", 401), (Self.readToken, endpoint.write ? 403 : endpoint.allowed), (Self.writeToken, endpoint.allowed),
                ] {
                    let answer = try await call(monitor, endpoint.method, endpoint.path, token: token, json: endpoint.json)
                    #expect(answer.status == expected, "\(endpoint.method) \(endpoint.path) with \(token ?? "no token"): \(answer)")
                    if endpoint.write { writes += 1 }
                }
            }
            // api.rateLimit 20: a burst of 40, then 20 a second, per token. 80 at once: at least 30
            // are refused however slowly the machine answers them; the write token is not.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<80 { group.addTask { try await call(monitor, "GET", "/v1/cluster", token: Self.readToken).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 429 }.count >= 30 && statuses.filter { $0 == 200 }.count >= 30, "\(statuses.sorted())")
            #expect(try await call(monitor, "GET", "/v1/cluster", token: Self.writeToken).status == 200)
            let document = try await call(monitor, "GET", "/v1/openapi.json", token: nil)
            #expect(document.status == 200 && document.body["openapi"] as? String == "3.1.0")

            await out.waitUntil(on: auditTopic, within: .seconds(15)) { $0.count >= writes }
            let audit = out.on(auditTopic)
            #expect(audit.count == writes)
            let entries = audit.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.message.value ?? []))) as? [String: Any] }
            #expect(Set(entries.compactMap { $0["token"] as? String }) == ["anonymous", "invalid", "viewer", "ops"])
            #expect(Set(entries.compactMap { $0["status"] as? Int }) == [401, 403, 202, 404])
            #expect(
                entries.contains { $0["path"] as? String == "/v1/tags/acc-tag" && $0["status"] as? Int == 202 && $0["token"] as? String == "ops" })
            for entry in entries {
                #expect(entry["time"] is Int && entry["remote"] is String && entry["method"] is String && entry["path"] is String)
            }
            for record in audit {
                let text = String(decoding: (record.message.value ?? []) + (record.message.key ?? []), as: UTF8.self)
                #expect(!text.contains(Self.writeToken) && !text.contains(Self.readToken) && !text.contains("wrong-token"))
            }
            #expect(!monitor.log.contains(Self.writeToken) && !monitor.log.contains(Self.readToken))
        }
    }

    @Test(
        "schedule, reschedule (keeping the payload) and cancel through the API are delivered as Kafka requests are; a rejected one is 400 with its code"
    )
    func writes() async throws {
        try await withAPI("api-writes") { s, monitor, out, _ in
            let soon = WorkerScenario.now + 3_000
            let scheduled = try await call(
                monitor, "POST", "/v1/messages",
                json: #"{"topic":"\#(s.outputTopic)","at":\#(soon),"id":"a-1","value":"one","headers":{"h":"x"},"tags":["u-42"]}"#)
            #expect(scheduled.status == 202 && scheduled.body["id"] as? String == "a-1" && scheduled.body["offset"] is Int, "\(scheduled)")
            let byDefault = try await call(monitor, "POST", "/v1/messages", json: #"{"topic":"\#(s.outputTopic)","delay":"2s","valueBase64":"AAE="}"#)
            let defaultID = try #require(byDefault.body["id"] as? String)
            #expect(defaultID.hasPrefix("\(s.inputTopic)/"))
            #expect(
                try await call(monitor, "POST", "/v1/messages", json: #"{"topic":"\#(s.outputTopic)","delay":"50m","id":"a-2","value":"two"}"#).status
                    == 202)
            #expect(
                try await call(monitor, "POST", "/v1/messages", json: #"{"topic":"\#(s.outputTopic)","delay":"50m","id":"a-3","value":"three"}"#)
                    .status == 202)
            // Each request is read by the worker before the next refers to it.
            try await waitUntil("a-3 is stored", within: .seconds(15)) {
                (try await call(monitor, "GET", "/v1/messages/a-3", token: Self.readToken)).body["state"] as? String == "pending"
            }
            #expect(try await call(monitor, "DELETE", "/v1/messages/a-2").status == 202)
            try await waitUntil("a-2 is cancelled", within: .seconds(15)) {
                (try await call(monitor, "GET", "/v1/messages/a-2", token: Self.readToken)).body["state"] as? String == "ended"
            }
            let moved = try await call(monitor, "PATCH", "/v1/messages/a-3", json: #"{"delay":"1s"}"#)
            #expect(moved.status == 202, "\(moved)")

            for (json, code) in [
                (#"{"topic":"tock.rejected","delay":1}"#, "topic-not-allowed"), (#"{"topic":"o"}"#, "missing-time"),
                (#"{"topic":"o","delay":1,"tags":["caf\u00e9"]}"#, "bad-tags"), (#"{"topic":"o","delay":1,"nope":1}"#, "bad-body"),
                (#"{"topic":"o","at":1,"delay":1}"#, "both-times"),
            ] {
                let refused = try await call(monitor, "POST", "/v1/messages", json: json)
                #expect(refused.status == 400 && refused.body["code"] as? String == code, "\(json): \(refused)")
            }
            #expect(try await call(monitor, "DELETE", "/v1/messages/a%20b").body["code"] as? String == "bad-id")

            await out.waitUntil(on: s.outputTopic, within: .seconds(20)) { Set($0.compactMap { $0.header("tock-id") }).count >= 3 }
            await out.settle(on: s.outputTopic, quiet: .seconds(2))
            let delivered = out.on(s.outputTopic)
            let byID = Dictionary(grouping: delivered) { $0.header("tock-id") ?? "" }
            #expect(Set(byID.keys) == ["a-1", defaultID, "a-3"], "\(byID.keys.sorted())")
            #expect(byID.values.allSatisfy { $0.count == 1 })
            #expect(byID["a-1"]?.first?.payload == "one" && byID["a-1"]?.first?.header("h") == "x")
            #expect(byID[defaultID]?.first?.message.value == [0, 1])
            #expect(byID["a-3"]?.first?.payload == "three", "a reschedule without a value keeps the payload")
            for arrival in delivered {
                let due = Int64(arrival.header("tock-at") ?? "") ?? .max
                #expect((arrival.message.timestamp?.milliseconds ?? 0) >= due, "published early")
            }
        }
    }

    @Test("a real dead letter is listed by GET /v1/dead and requeued under its id within dedup.retention, then delivered once")
    func deadLetters() async throws {
        let config = """
            kafka:
              producerProperties:
                allow.auto.create.topics: "false"
                topic.metadata.propagation.max.ms: "100"
            delivery:
              maxAttempts: 2
              backoff: {initial: 100ms, max: 200ms}
            """
        try await withAPI("api-dead", workerConfig: config) { s, monitor, out, _ in
            let missing = "late-\(s.name)"
            try await s.send([
                s.request(
                    id: "d-1", at: WorkerScenario.now, topic: missing, value: Array("payload".utf8), headers: [KafkaHeader(key: "h", string: "1")])
            ])
            let dead = await out.wait(for: 1, on: s.deadTopic, within: .seconds(20))
            #expect(dead.first?.header("tock-id") == "d-1")

            let listed = try await call(monitor, "GET", "/v1/dead?limit=10", token: Self.readToken)
            let letters = try #require(listed.body["dead"] as? [[String: Any]])
            #expect(letters.first?["id"] as? String == "d-1" && letters.first?["topic"] as? String == missing, "\(listed)")
            #expect(letters.first?["attempts"] as? Int == 2 && (letters.first?["error"] as? String)?.isEmpty == false)
            #expect(try await call(monitor, "GET", "/v1/dead?limit=0", token: Self.readToken).status == 400)

            // The topic exists now; a schedule of d-1 again would be a duplicate, a requeue is not.
            let admin = try KafkaAdmin(brokers: s.brokers)
            try await admin.createTopic(missing, partitions: 1)
            await admin.close()
            let requeued = try await call(monitor, "POST", "/v1/dead/d-1/requeue", json: "")
            #expect(requeued.status == 202 && requeued.body["id"] as? String == "d-1", "\(requeued)")
            let again = try await out.collectOnce(missing, brokers: s.brokers, within: .seconds(20))
            #expect(again.count == 1, "\(again.count) records of d-1 on \(missing)")
            #expect(again.first?.header("tock-id") == "d-1" && again.first?.payload == "payload" && again.first?.header("h") == "1")
        }
    }
}

extension OperatorsAPITests {
    @Test(
        "a series paused through the API publishes nothing; resumed, what it missed follows its tock-catchup", arguments: ["all", "latest", "none"])
    func pauseAndResume(catchup: String) async throws {
        try await withAPI("api-pause-\(catchup)") { s, monitor, out, _ in
            let id = "ser-\(catchup)"
            func state() async throws -> String? {
                (try await call(monitor, "GET", "/v1/messages/\(id)", token: Self.readToken)).body["state"] as? String
            }
            func dues() -> [Int64] { out.on(s.outputTopic).compactMap { Int64($0.header("tock-at") ?? "") } }
            let created = try await call(
                monitor, "POST", "/v1/messages",
                json: #"{"topic":"\#(s.outputTopic)","every":"1s","count":60,"id":"\#(id)","catchup":"\#(catchup)","value":"tick"}"#)
            #expect(created.status == 202, "\(created)")
            await out.waitUntil(on: s.outputTopic, within: .seconds(20)) { $0.count >= 2 }
            #expect(try await call(monitor, "POST", "/v1/series/nope-\(catchup)/pause").status == 404)

            #expect(try await call(monitor, "POST", "/v1/series/\(id)/pause").status == 202)
            try await waitUntil("\(id) is paused", within: .seconds(15)) { try await state() == "paused" }
            let pausedAt = WorkerScenario.now
            let beforePause = dues().max() ?? 0
            try await Task.sleep(for: .seconds(4))
            let duringPause = out.on(s.outputTopic).filter { ($0.message.timestamp?.milliseconds ?? 0) > pausedAt + 1_100 }
            #expect(duringPause.isEmpty, "published while paused: \(duringPause.compactMap { $0.header("tock-id") })")

            #expect(try await call(monitor, "POST", "/v1/series/\(id)/resume").status == 202)
            try await waitUntil("\(id) is resumed", within: .seconds(15)) { try await state() != "paused" }
            let resumedAt = WorkerScenario.now
            try await Task.sleep(for: .seconds(3))
            await out.settle(on: s.outputTopic, quiet: .seconds(1))
            // Before counting what was published: the topic read again from offset 0 (the local
            // broker can hide a batch from a tailing consumer).
            await out.catchUp(on: s.outputTopic)
            let all = dues()
            // The occurrences due while it was paused, with a second's margin each side.
            let missed = Set(all.filter { $0 > beforePause && $0 < resumedAt - 1_000 })
            let expectedMissed = Int((resumedAt - 1_000 - beforePause - 1) / 1_000)
            switch catchup {
            case "all": #expect(missed.count >= expectedMissed - 1, "missed occurrences published: \(missed.sorted()), of about \(expectedMissed)")
            case "latest": #expect(missed.count <= 1, "\(missed.sorted())")
            default: #expect(missed.isEmpty, "\(missed.sorted())")
            }
            #expect(all.contains { $0 > resumedAt }, "the series goes on after the resume: \(all.sorted())")
            #expect(Set(all).count == all.count, "an occurrence published twice: \(all.sorted())")
            for arrival in out.on(s.outputTopic) {
                #expect((arrival.message.timestamp?.milliseconds ?? 0) >= Int64(arrival.header("tock-at") ?? "") ?? .max, "published early")
            }
            print(
                "[pause-\(catchup)] paused at +\(pausedAt - beforePause) ms after the last published; missed and published \(missed.count) of about \(expectedMissed)"
            )
        }
    }
}

extension OperatorsAPITests {
    @Test(
        "DELETE /v1/tags/<tag> cancels 10,000 hot and 500 cold messages across shards, through a SIGKILL of the leading monitor mid-job; untagged ones stay"
    )
    func cancelByTagThroughFailover() async throws {
        let s = try await WorkerScenario("api-tags")
        let env = [
            "TOCK_API_TOKENS": "ops:write:\(Self.digest(Self.writeToken)),viewer:read:\(Self.digest(Self.readToken))",
            "TOCK_API_AUDIT_TOPIC": "audit-\(s.name)", "TOCK_API_TAG_CANCEL_RATE": "1500",
        ]
        try await s.withWorker { _ in
            let first = try await s.startMonitor(id: "m1", env: env, apiToken: Self.readToken)
            try await withCleanup({ await first.kill9() }) {
                try await waitUntil("m1 leads", within: .seconds(10)) { try await first.cluster().leading }
                let second = try await s.startMonitor(id: "m2", env: env, apiToken: Self.readToken)
                try await withCleanup({ await second.kill9() }) {
                    let store = try await s.store()
                    let now = WorkerScenario.now
                    let tagged = (0..<10_000).map { "t-\($0)" }
                    let cold = (0..<500).map { "c-\($0)" }
                    let untagged = (0..<200).map { "u-\($0)" }
                    var records = tagged.map { s.request(id: $0, at: now + 3_000_000, headers: [KafkaHeader(key: "tock-tags", string: "bulk,x")]) }
                    records += cold.map { s.request(id: $0, at: now + 7_200_000, headers: [KafkaHeader(key: "tock-tags", string: "bulk")]) }
                    records += untagged.map { s.request(id: $0, at: now + 3_000_000) }
                    for batch in stride(from: 0, to: records.count, by: 2_000) {
                        try await s.send(Array(records[batch..<min(records.count, batch + 2_000)]))
                    }
                    try await waitUntil("all are stored and indexed", within: .seconds(60)) { try await store.taggedCount(tag: "bulk") == 10_500 }
                    #expect(try await store.taggedCount(tag: "x") == 10_000)

                    let created = try await call(first, "DELETE", "/v1/tags/bulk")
                    let job = try #require(created.body["job"] as? String, "\(created)")
                    #expect(created.status == 202)
                    try await waitUntil("the job is under way", within: .seconds(20)) {
                        (try await call(first, "GET", "/v1/jobs/\(job)", token: Self.readToken).body["cancelled"] as? Int ?? 0) >= 1_000
                    }
                    let before = try await call(first, "GET", "/v1/jobs/\(job)", token: Self.readToken).body
                    await first.kill9()
                    var report: [String: Any] = [:]
                    try await waitUntil("the standby finishes the job", within: .seconds(60)) {
                        report = try await call(second, "GET", "/v1/jobs/\(job)", token: Self.readToken).body
                        return report["state"] as? String == "done"
                    }
                    print("[tags] at the kill: \(before); after: \(report)")
                    #expect((before["state"] as? String) == "running", "the kill came after the job: \(before)")
                    #expect((report["cancelled"] as? Int ?? 0) >= 10_500)
                    try await waitUntil("the worker applied every cancel", within: .seconds(60)) { try await store.taggedCount(tag: "bulk") == 0 }
                    #expect(try await store.taggedCount(tag: "x") == 0, "a cancelled message keeps none of its tags")
                    for id in tagged.prefix(20) + cold.prefix(20) {
                        #expect(try await store.status(of: id, nowMillis: WorkerScenario.now).state == .ended, "\(id)")
                    }
                    for id in untagged.prefix(20) {
                        #expect(try await store.status(of: id, nowMillis: WorkerScenario.now).state == .pending, "\(id)")
                    }
                    #expect(try await s.storedMessageCount(store) == 200)
                    #expect(try await call(second, "GET", "/v1/jobs/none", token: Self.readToken).status == 404)
                    #expect(try await call(second, "DELETE", "/v1/tags/caf%C3%A9").body["code"] as? String == "bad-tags")
                }
            }
        }
    }
}

extension OperatorsAPITests {
    @Test("the command line through the API: tock cancel --tag, tock series pause and resume, tock dead list and requeue; without a token it says so")
    func commandLine() async throws {
        try await withAPI("api-cli") { s, monitor, out, _ in
            let url = "http://127.0.0.1:\(monitor.httpPort)"
            let cli = s.environment(workerID: "cli", ["TOCK_API_TOKEN": Self.writeToken])
            let now = WorkerScenario.now
            try await s.send(
                (0..<30).map { s.request(id: "cl-\($0)", at: now + 600_000, headers: [KafkaHeader(key: "tock-tags", string: "cli-tag")]) }
                    + [s.request(id: "cl-series", topic: s.outputTopic, headers: [KafkaHeader(key: "tock-every", string: "1h")])])
            let store = try await s.store()
            try await waitUntil("all are stored", within: .seconds(20)) { try await store.taggedCount(tag: "cli-tag") == 30 }

            let tagged = try await CLIRun.run(["cancel", "--tag", "cli-tag", "--monitor", url], environment: cli)
            #expect(tagged.status == 0 && tagged.stdout.contains("done: 30 cancel request(s) written"), "\(tagged.stdout)\(tagged.stderr)")
            let refused = try await CLIRun.run(["cancel", "--tag", "cli-tag", "--monitor", url], environment: s.environment(workerID: "cli"))
            #expect(refused.status != 0 && refused.stderr.contains("401"), "\(refused.stdout)\(refused.stderr)")

            let paused = try await CLIRun.run(["series", "pause", "cl-series", "--monitor", url], environment: cli)
            #expect(paused.status == 0, "\(paused.stdout)\(paused.stderr)")
            try await waitUntil("cl-series is paused", within: .seconds(15)) {
                try await store.status(of: "cl-series", nowMillis: WorkerScenario.now).state == .paused
            }
            // Without --monitor: the request goes to the input topic itself.
            let resumed = try await CLIRun.run(["series", "resume", "cl-series"], environment: cli)
            #expect(resumed.status == 0 && resumed.stdout.contains("resume of series cl-series written to"), "\(resumed.stdout)\(resumed.stderr)")
            try await waitUntil("cl-series is resumed", within: .seconds(15)) {
                try await store.status(of: "cl-series", nowMillis: WorkerScenario.now).state == .pending
            }

            let empty = try await CLIRun.run(["dead", "list", "--monitor", url], environment: cli)
            #expect(empty.status == 0 && empty.stdout.contains("no dead letters"), "\(empty.stdout)\(empty.stderr)")
            let missing = try await CLIRun.run(["dead", "requeue", "nope", "--monitor", url], environment: cli)
            #expect(missing.status != 0 && missing.stderr.contains("404"), "\(missing.stdout)\(missing.stderr)")
            _ = out
        }
    }
}

extension OutputCollector {
    /// Reads `topic` with a collector of its own until one record came and 2 s passed quietly.
    func collectOnce(_ topic: String, brokers: String, within: Duration) async throws -> [Arrival] {
        let reader = try await OutputCollector.start(brokers: brokers, topics: [topic], groupId: "once-\(UInt32.random(in: 0...UInt32.max))")
        await reader.waitUntil(on: topic, within: within) { !$0.isEmpty }
        await reader.settle(on: topic, quiet: .seconds(2))
        let read = reader.on(topic)
        await reader.stop()
        return read
    }
}
