import Foundation
import Synchronization
import Testing
import TockConcurrency
import TockCore
import TockKafka
import TockMonitorKit
import TockRedis
import TockStore

/// One end-to-end scenario's world: its own key prefix, input/rejected/dead topics and group id
/// on the shared stack, a producer for requests, and helpers to run real `tock-worker` and
/// `tock-monitor` processes. `clusterMode` is every process's `TOCK_CLUSTER_MODE`; `redisURL`
/// and `brokers` override the shared stack's (a test that stalls or restarts them runs its own).
final class WorkerScenario: Sendable {
    let name: String
    let brokers: String
    let redisURL: String
    let keyPrefix: String
    let inputTopic: String
    let rejectedTopic: String
    let deadTopic: String
    let groupId: String
    let outputTopic: String
    let clusterMode: String
    let producer: KafkaProducer

    init(_ label: String, clusterMode: String = "standalone", redisURL: String? = nil, brokers: String? = nil) async throws {
        name = TestStack.unique(label)
        let stack = await stackThread.run { TestStack.shared }
        self.brokers = brokers ?? stack.kafkaBrokers
        self.redisURL = redisURL ?? stack.redisURL
        self.clusterMode = clusterMode
        keyPrefix = "t-\(name)"
        inputTopic = "in-\(name)"
        rejectedTopic = "rej-\(name)"
        deadTopic = "dead-\(name)"
        groupId = "g-\(name)"
        outputTopic = "out-\(name)"
        producer = try KafkaProducer(brokers: self.brokers)
        let admin = try KafkaAdmin(brokers: self.brokers)
        try await admin.createTopics([inputTopic, rejectedTopic, deadTopic, outputTopic].map { ($0, 4, 1) })
        await admin.close()
    }

    /// The environment of a worker of this scenario; `overrides` win.
    func environment(workerID: String, _ overrides: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("TOCK_") { env.removeValue(forKey: key) }
        env.merge([
            "TOCK_KAFKA_BROKERS": brokers,
            "TOCK_REDIS_URL": redisURL,
            "TOCK_STORE_KEY_PREFIX": keyPrefix,
            "TOCK_STORE_SHARDS": "8",
            // One pair of cold topics for every scenario with the default rings (8 shards): a
            // pair per test would put a thousand partitions per test on the shared broker.
            "TOCK_STORE_COLD_TOPIC_PREFIX": "cold-shared",
            "TOCK_KAFKA_INPUT_TOPICS": inputTopic,
            "TOCK_KAFKA_REJECTED_TOPIC": rejectedTopic,
            "TOCK_KAFKA_DEAD_TOPIC": deadTopic,
            "TOCK_KAFKA_GROUP_ID": groupId,
            "TOCK_KAFKA_SESSION_TIMEOUT": "6s",
            "TOCK_KAFKA_TOPIC_PARTITIONS": "4",
            "TOCK_CLUSTER_MODE": clusterMode,
            "TOCK_WORKER_ID": workerID,
            "TOCK_HTTP_PORT": "0",
            "TOCK_WHEEL_CLAIM_INTERVAL": "200ms",
            "TOCK_LOG_LEVEL": "info",
        ]) { _, new in new }
        env.merge(overrides) { _, new in new }
        return env
    }

    /// Starts a worker and waits until its consumer has input partitions (or it exits).
    func startWorker(id: String = "w1", env overrides: [String: String] = [:], config: String? = nil, waitReady: Bool = true) async throws
        -> WorkerProcessHandle
    {
        let handle = try WorkerProcessHandle.launch(
            name: "\(name)-\(id)", environment: environment(workerID: id, overrides), configYAML: config
        )
        if waitReady { try await handle.waitForLog("input partitions assigned", within: .seconds(30)) }
        return handle
    }

    /// Starts a `tock-monitor` with this scenario's Redis, key prefix and shard count, serving HTTP
    /// on `httpPort` (a free one by default), and waits until its `/v1/cluster` answers.
    /// `apiToken`: the token `/v1/cluster` is read with, when the monitor is given `TOCK_API_TOKENS`.
    func startMonitor(id: String = "m1", httpPort: UInt16? = nil, env overrides: [String: String] = [:], apiToken: String? = nil) async throws
        -> MonitorProcessHandle
    {
        let port = try httpPort ?? TestSocket.freePort()
        let environment = environment(workerID: id, overrides.merging(["TOCK_HTTP_PORT": "\(port)"]) { _, new in new })
        let process = try WorkerProcessHandle.launch(name: "\(name)-\(id)", product: "tock-monitor", environment: environment, configYAML: nil)
        let monitor = MonitorProcessHandle(process: process, httpPort: port, apiToken: apiToken)
        try await waitUntil("monitor \(id) serves /v1/cluster", within: .seconds(20)) {
            if !process.isRunning { throw HarnessError("monitor \(id) exited (\(process.process.terminationStatus)):\n\(process.log.suffix(3_000))") }
            return (try? await monitor.cluster()) != nil
        }
        return monitor
    }

    /// A request record on this scenario's input topic.
    func request(
        id: String? = nil, at: Int64? = nil, delay: String? = nil, topic: String? = nil, key: String? = "k",
        value: [UInt8]? = Array("v".utf8), headers: [KafkaHeader] = [], action: String? = nil, partition: Int32? = nil,
        timestamp: Int64? = nil
    ) -> KafkaProducerRecord {
        var all = headers
        if let topic = topic ?? (action == "cancel" ? nil : outputTopic) { all.append(KafkaHeader(key: "tock-topic", string: topic)) }
        if let at { all.append(KafkaHeader(key: "tock-at", string: String(at))) }
        if let delay { all.append(KafkaHeader(key: "tock-delay", string: delay)) }
        if let id { all.append(KafkaHeader(key: "tock-id", string: id)) }
        if let action { all.append(KafkaHeader(key: "tock-action", string: action)) }
        return KafkaProducerRecord(
            topic: inputTopic, partition: partition, key: key.map { Array($0.utf8) }, value: value, headers: all, timestamp: timestamp)
    }

    func send(_ records: [KafkaProducerRecord]) async throws {
        for result in await producer.send(records) { _ = try result.get() }
    }

    func store(shards: Int = 8) async throws -> ScheduleStore {
        let client = try RedisClient(url: redisURL)
        return try ScheduleStore(client: client, keyPrefix: keyPrefix, shardCount: shards, retentionMillis: 3_600_000)
    }

    /// A consumer of `topics` from the beginning, in its own group, collecting into `collector`.
    func collect(_ topics: [String]) async throws -> OutputCollector {
        try await OutputCollector.start(brokers: brokers, topics: topics, groupId: "c-\(name)-\(UInt32.random(in: 0...UInt32.max))")
    }

    static var now: Int64 { SystemWallClock().nowMillis() }
}

/// Records read from output topics, with the time each arrived.
final class OutputCollector: Sendable {
    private let stopped = Mutex(false)
    struct Arrival: Sendable {
        var message: KafkaConsumerMessage
        var arrivedMillis: Int64
        func header(_ name: String) -> String? {
            message.headers.last(where: { $0.key == name }).map { String(decoding: $0.value ?? [], as: UTF8.self) }
        }
    }

    private let arrivals = Mutex<[Arrival]>([])
    private let seen = Mutex<Set<String>>([])
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    let consumer: KafkaConsumer
    let brokers: String

    private init(consumer: KafkaConsumer, brokers: String) {
        self.consumer = consumer
        self.brokers = brokers
    }

    static func start(brokers: String, topics: [String], groupId: String) async throws -> OutputCollector {
        let consumer = try KafkaConsumer(
            brokers: brokers, groupId: groupId, topics: topics,
            properties: [
                "session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "fetch.wait.max.ms": "20", "auto.offset.reset": "earliest",
            ])
        let collector = OutputCollector(consumer: consumer, brokers: brokers)
        let clock = SystemWallClock()
        collector.task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    guard let batch = try? await consumer.poll(maxMessages: 1_000, timeout: .milliseconds(50)) else { continue }
                    let now = clock.nowMillis()
                    // A rebalance of the collector's own group hands it records again from its last
                    // commit: the same partition and offset is one record, not a duplicate Tock wrote.
                    let fresh = collector.seen.withLock { seen in batch.filter { seen.insert("\($0.topic)/\($0.partition)/\($0.offset)").inserted } }
                    collector.arrivals.withLock { $0.append(contentsOf: fresh.map { Arrival(message: $0, arrivedMillis: now) }) }
                }
            }
        }
        return collector
    }

    var all: [Arrival] { arrivals.withLock { $0 } }

    func on(_ topic: String) -> [Arrival] { all.filter { $0.message.topic == topic } }

    /// Waits until `count` records arrived on `topic` (or `within` passed); returns them.
    @discardableResult
    func wait(for count: Int, on topic: String, within: Duration = .seconds(30)) async -> [Arrival] {
        await waitUntil(on: topic, within: within) { $0.count >= count }
        return on(topic)
    }

    /// Polls until `enough` holds for what arrived on `topic`, or `within` passed. When arrivals
    /// stall short of it for 2 s, the topic is read again from the log (`catchUp`) once per stall.
    func waitUntil(on topic: String, within: Duration, _ enough: ([Arrival]) -> Bool) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: within)
        var lastCount = on(topic).count
        var lastProgress = clock.now
        while !enough(on(topic)) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            let count = on(topic).count
            if count != lastCount {
                (lastCount, lastProgress) = (count, clock.now)
            } else if clock.now - lastProgress >= .seconds(2) {
                await catchUp(on: topic)
                (lastCount, lastProgress) = (on(topic).count, clock.now)
            }
        }
    }

    /// Reads `topic` again from its beginning with a consumer of its own and adds the records the
    /// tailing consumer did not see (by partition and offset). The local broker (tansu) can let a
    /// tailing consumer skip a batch that a concurrent producer's append made visible late: seen
    /// with two workers producing to one partition, 4 records in the log that the tailing
    /// consumer never fetched. Tock had published them; the test must not count them lost.
    func catchUp(on topic: String, quiet: Duration = .milliseconds(1_500), within: Duration = .seconds(10)) async {
        guard
            let reader = try? KafkaConsumer(
                brokers: brokers, groupId: "catch-up-\(UInt32.random(in: 0...UInt32.max))", topics: [topic],
                properties: [
                    "session.timeout.ms": "6000", "fetch.wait.max.ms": "20", "auto.offset.reset": "earliest", "enable.auto.commit": "false",
                ])
        else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: within)
        var lastRecord = clock.now
        var read: [KafkaConsumerMessage] = []
        while clock.now < deadline && (read.isEmpty || clock.now - lastRecord < quiet) {
            guard let batch = try? await reader.poll(maxMessages: 1_000, timeout: .milliseconds(100)) else { continue }
            if !batch.isEmpty { lastRecord = clock.now }
            read.append(contentsOf: batch)
        }
        await reader.close()
        let now = SystemWallClock().nowMillis()
        arrivals.withLock { arrivals in
            let had = Set(arrivals.filter { $0.message.topic == topic }.map { "\($0.message.partition)/\($0.message.offset)" })
            let missed = read.filter { !had.contains("\($0.partition)/\($0.offset)") }
            seen.withLock { seen in for record in missed { seen.insert("\(record.topic)/\(record.partition)/\(record.offset)") } }
            arrivals.append(contentsOf: missed.map { Arrival(message: $0, arrivedMillis: now) })
            if !missed.isEmpty {
                print("[collector] \(missed.count) records of \(topic) were in the log but not fetched by the tailing consumer; added")
            }
        }
    }

    /// Stops collecting and closes the consumer; a second call does nothing.
    func stop() async {
        guard
            stopped.withLock({ (was: inout Bool) -> Bool in
                defer { was = true }
                return !was
            })
        else { return }
        task.withLock { $0?.cancel() }
        try? await Task.sleep(for: .milliseconds(100))
        await consumer.close()
    }
}

/// A real `tock-worker` process, its log in a file.
final class WorkerProcessHandle: Sendable {
    let name: String
    let process: Process
    let logURL: URL

    private init(name: String, process: Process, logURL: URL) {
        self.name = name
        self.process = process
        self.logURL = logURL
    }

    /// The executables sit beside the test bundle, in the same build folder.
    static func binary(_ product: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(product)
    }

    /// Launches `product` (`tock-worker` or `tock-monitor`), its output in a log file; through
    /// `wrapper` (a command and its arguments, e.g. `setpriv` dropping a capability) when given.
    static func launch(
        name: String, product: String = "tock-worker", environment: [String: String], configYAML: String?, wrapper: [String] = []
    ) throws -> WorkerProcessHandle {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tock-worker-\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logURL = directory.appendingPathComponent("worker-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let process = Process()
        var arguments: [String] = []
        if let configYAML {
            let configURL = directory.appendingPathComponent("tock.yaml")
            try configYAML.write(to: configURL, atomically: true, encoding: .utf8)
            arguments = ["--config", configURL.path]
        }
        if let command = wrapper.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = Array(wrapper.dropFirst()) + [binary(product).path] + arguments
        } else {
            process.executableURL = binary(product)
            process.arguments = arguments
        }
        process.environment = environment
        process.currentDirectoryURL = TestStack.repositoryRoot
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return WorkerProcessHandle(name: name, process: process, logURL: logURL)
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    func waitForLog(_ text: String, within: Duration) async throws {
        let deadline = ContinuousClock.now.advanced(by: within)
        while !log.contains(text) {
            if !process.isRunning {
                throw HarnessError("worker \(name) exited (\(process.terminationStatus)) before logging '\(text)':\n\(log.suffix(3_000))")
            }
            if ContinuousClock.now >= deadline { throw HarnessError("worker \(name) did not log '\(text)' within \(within):\n\(log.suffix(3_000))") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` and, unless it is SIGSTOP/SIGCONT, waits for the exit; returns the status.
    @discardableResult
    func signal(_ signal: Int32, waitUpTo: Duration = .seconds(40)) async -> Int32? {
        kill(process.processIdentifier, signal)
        if signal == SIGSTOP || signal == SIGCONT { return nil }
        return await waitForExit(within: waitUpTo)
    }

    func waitForExit(within: Duration) async -> Int32? {
        let deadline = ContinuousClock.now.advanced(by: within)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Makes sure the process is gone at the end of a test.
    func kill9() async { if process.isRunning { await signal(SIGKILL, waitUpTo: .seconds(5)) } }

    /// Stops the process with SIGTERM and expects it to exit 0; otherwise records its exit status
    /// (or that it still ran 40 s later) and the end of its log.
    func expectCleanExit(sourceLocation: SourceLocation = #_sourceLocation) async {
        let status = await signal(SIGTERM)
        let how =
            switch status {
            case nil: "still running 40 s after SIGTERM"
            case let status? where process.terminationReason == .uncaughtSignal: "killed by signal \(status)"
            case let status?: "exit status \(status)"
            }
        #expect(status == 0, "\(how); its log ends: \(log.suffix(3_000))", sourceLocation: sourceLocation)
    }
}

/// A real `tock-monitor` process and the port of its HTTP server.
final class MonitorProcessHandle: Sendable {
    let process: WorkerProcessHandle
    let httpPort: UInt16
    let apiToken: String?

    init(process: WorkerProcessHandle, httpPort: UInt16, apiToken: String? = nil) {
        self.process = process
        self.httpPort = httpPort
        self.apiToken = apiToken
    }

    /// GET `/v1/cluster`: the monitor's last view of the cluster.
    func cluster() async throws -> ClusterSnapshot {
        let response = try await TestSocket.request(
            port: httpPort, method: "GET", path: "/v1/cluster", headers: apiToken.map { ["Authorization": "Bearer \($0)"] } ?? [:])
        guard response.status == 200 else { throw HarnessError("/v1/cluster answered \(response.status): \(response.body)") }
        return try JSONDecoder().decode(ClusterSnapshot.self, from: Data(response.body.utf8))
    }

    var log: String { process.log }
    var isRunning: Bool { process.isRunning }

    @discardableResult
    func signal(_ signal: Int32, waitUpTo: Duration = .seconds(40)) async -> Int32? { await process.signal(signal, waitUpTo: waitUpTo) }

    func kill9() async { await process.kill9() }

    func expectCleanExit(sourceLocation: SourceLocation = #_sourceLocation) async { await process.expectCleanExit(sourceLocation: sourceLocation) }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Helpers of the failure tests

/// Polls `condition` every `every` until it holds; throws when `within` passed first.
func waitUntil(
    _ what: String, within: Duration, every: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: within)
    while try await !condition() {
        if ContinuousClock.now >= deadline { throw HarnessError("timed out after \(within) waiting until \(what)") }
        try await Task.sleep(for: every)
    }
}

extension WorkerScenario {
    /// Messages the store still holds (pending, claimed or being delivered), over every shard.
    func storedMessageCount(_ store: ScheduleStore, shards: Int = 8) async throws -> Int {
        let commands = (0..<shards).map { RawRedisCommand(["HLEN", RedisArgument(store.keys.messages($0))]) as any RedisCommand }
        var total = 0
        for result in try await store.client.pipeline(commands, idempotent: true) {
            if case .integer(let count) = try result.get() { total += Int(count) }
        }
        return total
    }

    /// The ids locked for delivery (a worker took the delivery lock and has not recorded the outcome).
    func leasedIDs(_ store: ScheduleStore, shards: Int = 8) async throws -> Set<String> {
        Set(try await locks(store, shards: shards).flatMap(\.ids))
    }

    /// The ids whose delivery lock a process of `worker` holds: each lock's id starts with the
    /// locking process's token, `<worker id>/<random>`.
    func lockedIDs(_ store: ScheduleStore, worker: String, shards: Int = 8) async throws -> Set<String> {
        Set(try await locks(store, shards: shards).filter { $0.lock.hasPrefix("\(worker)/") }.flatMap(\.ids))
    }

    /// Every delivery lock of the first `shards` shards, with the ids it holds.
    func locks(_ store: ScheduleStore, shards: Int) async throws -> [(lock: String, ids: [String])] {
        let commands = (0..<shards).map { RawRedisCommand(["HGETALL", RedisArgument(store.keys.locks($0))]) as any RedisCommand }
        var locks: [(lock: String, ids: [String])] = []
        for result in try await store.client.pipeline(commands, idempotent: true) {
            guard case .array(let items) = try result.get() else { continue }
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                guard let lock = items[index].string, case .bulkString(let packed) = items[index + 1] else { continue }
                locks.append((lock, try MessagePackStrings.decode(packed)))
            }
        }
        return locks
    }

    /// Sends `records` and waits until the store holds them all (every partition's watermark
    /// reached the last offset sent to it): from then on, what happens to workers cannot lose them.
    func sendStored(_ records: [KafkaProducerRecord], store: ScheduleStore, within: Duration = .seconds(30)) async throws {
        var last: [Int32: Int64] = [:]
        for result in await producer.send(records) {
            let report = try result.get()
            last[report.partition] = max(last[report.partition] ?? -1, report.offset)
        }
        try await waitUntil("the store has the \(records.count) requests", within: within, every: .milliseconds(20)) {
            for (partition, offset) in last where try await store.highestStoredOffset(topic: inputTopic, partition: partition) < offset {
                return false
            }
            return true
        }
    }
}

extension WorkerScenario {
    /// Sends a request due in an hour (`id`) and waits until the worker stored it: from then on
    /// the worker is reading its input, which under the whole suite can start seconds after its
    /// partitions were assigned. Cancel `id` when the test needs an empty store.
    func warmUp(_ store: ScheduleStore, id: String = "warm-up") async throws {
        try await sendStored([request(id: id, at: Self.now + 3_600_000, partition: 0)], store: store)
    }

    /// A re-read's end: waits until the worker whose `/metrics` is on `port` counted `n` requests
    /// as re-reads, then sends one marker per partition, due now, behind them, and waits until
    /// the `n` records and the 4 markers (by payload) arrived on the output topic: once the markers
    /// are out, anything the re-reads had stored would be out as well (it would be due in the past).
    /// Returns the worker's metrics as they were when the markers arrived.
    func rereadThenMarkers(_ n: Int, port: UInt16, out: OutputCollector, within: Duration) async throws -> MetricsScrape {
        try await waitUntil("the worker counted the \(n) records as re-reads", within: within) {
            try await MetricsScrape.get(port: port).value(#"tock_requests_total{result="reread"}"#) == Double(n)
        }
        try await send(
            (0..<4).map { request(id: "marker-\($0)", at: Self.now, value: Array("marker-\($0)".utf8), partition: Int32($0)) })
        await out.waitDistinct(n + 4, on: outputTopic, within: .seconds(20)) { $0.payload }
        await out.settle(on: outputTopic)
        return try await MetricsScrape.get(port: port)
    }

    /// Waits until every key (tock-id by default) of `expected` arrived on the output topic
    /// (`within`) and the store is empty (`emptyWithin`), lets records still on their way arrive
    /// (`quiet`), and summarizes the arrivals by that key.
    func deliveredSummary(
        _ out: OutputCollector, expected: Set<String>, store: ScheduleStore, within: Duration = .seconds(60),
        emptyWithin: Duration = .seconds(30), quiet: Duration = .milliseconds(700),
        key: (OutputCollector.Arrival) -> String? = { $0.header("tock-id") }
    ) async throws -> (summary: DeliverySummary, arrivals: [OutputCollector.Arrival]) {
        await out.waitDistinct(expected.count, on: outputTopic, within: within, key: key)
        try await waitUntil("the store is empty", within: emptyWithin) { try await storedMessageCount(store) == 0 }
        await out.settle(on: outputTopic, quiet: quiet)
        let arrivals = out.on(outputTopic)
        return (DeliverySummary(arrivals, expected: expected, key: key), arrivals)
    }
}

/// One scrape of a worker's `/metrics`.
struct MetricsScrape: Sendable {
    let text: String

    static func get(port: UInt16) async throws -> MetricsScrape {
        let response = try await TestSocket.get(port: port, path: "/metrics")
        guard response.status == 200 else { throw HarnessError("/metrics answered \(response.status)") }
        return MetricsScrape(text: response.body)
    }

    /// The value of a series written exactly as in the exposition, e.g. `tock_requests_total{result="stored"}`.
    func value(_ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).split(separator: " ").first ?? "")
        }
        return nil
    }

    func lines(startingWith prefix: String) -> [Substring] { text.split(separator: "\n").filter { $0.hasPrefix(prefix) } }
}

/// What reached an output topic, keyed by something that identifies a scheduled message.
struct DeliverySummary: CustomStringConvertible {
    var arrivals: Int
    var counts: [String: Int]
    var duplicates: [String: Int]
    var missing: Set<String>
    var unexpected: Set<String>
    /// (key, ms early) of records whose CreateTime is before their tock-at.
    var early: [(String, Int64)]
    var maxLatenessMillis: Int64
    /// Records without a timestamp or tock-at header.
    var unstamped: Int

    init(_ arrivals: [OutputCollector.Arrival], expected: Set<String>, key: (OutputCollector.Arrival) -> String?) {
        self.arrivals = arrivals.count
        var counts: [String: Int] = [:]
        var early: [(String, Int64)] = []
        var maxLateness = Int64.min
        var unstamped = 0
        for arrival in arrivals {
            let name = key(arrival) ?? "<no key>"
            counts[name, default: 0] += 1
            guard let stamp = arrival.message.timestamp?.milliseconds, let due = arrival.header("tock-at").flatMap({ Int64($0) }) else {
                unstamped += 1
                continue
            }
            if stamp < due { early.append((name, due - stamp)) }
            maxLateness = max(maxLateness, stamp - due)
        }
        self.counts = counts
        duplicates = counts.filter { $0.value > 1 }
        missing = expected.subtracting(counts.keys)
        unexpected = Set(counts.keys).subtracting(expected)
        self.early = early
        maxLatenessMillis = maxLateness == .min ? 0 : maxLateness
        self.unstamped = unstamped
    }

    /// Ids that arrived more than once, and the copies beyond each first arrival.
    var duplicated: Set<String> { Set(duplicates.keys) }
    var extraCopies: Int { duplicates.values.reduce(0) { $0 + $1 - 1 } }

    /// SPEC guarantee 3 after a worker was killed: every message arrived, none early or
    /// unexpected, and only messages whose lock the dead worker held (`inFlight`) arrived twice.
    func expectAllOnceExceptInFlight(_ inFlight: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(missing.isEmpty, "\(self)", sourceLocation: sourceLocation)
        #expect(unexpected.isEmpty, "\(self)", sourceLocation: sourceLocation)
        #expect(early.isEmpty, "\(self)", sourceLocation: sourceLocation)
        #expect(
            duplicated.isSubset(of: inFlight), "duplicates outside the in-flight set: \(duplicated.subtracting(inFlight).sorted())",
            sourceLocation: sourceLocation)
        #expect(extraCopies <= inFlight.count, sourceLocation: sourceLocation)
        #expect(duplicates.values.allSatisfy { $0 == 2 }, sourceLocation: sourceLocation)
    }

    var description: String {
        "\(arrivals) records, \(counts.count) distinct, \(duplicates.count) duplicated \(duplicates.keys.sorted().prefix(10)), "
            + "\(missing.count) missing \(missing.sorted().prefix(10)), \(unexpected.count) unexpected \(unexpected.sorted().prefix(10)), "
            + "\(early.count) early \(early.prefix(10)), max lateness \(maxLatenessMillis) ms"
    }
}

extension OutputCollector.Arrival {
    /// The value as text; a null value reads as "" here, so tell it from an empty one by `message.value == nil`.
    var payload: String { String(decoding: message.value ?? [], as: UTF8.self) }
}

extension OutputCollector {
    /// Waits until `count` distinct keys arrived on `topic` (or `within` passed).
    func waitDistinct(_ count: Int, on topic: String, within: Duration, key: (Arrival) -> String?) async {
        await waitUntil(on: topic, within: within) { Set($0.compactMap(key)).count >= count }
    }

    /// Waits until nothing new arrived on `topic` for `quiet` (at most `within`): lets records the
    /// broker has acknowledged reach the collector before counting duplicates.
    func settle(on topic: String, quiet: Duration = .milliseconds(700), within: Duration = .seconds(10)) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: within)
        var last = on(topic).count
        var since = clock.now
        while clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            let count = on(topic).count
            if count != last {
                last = count
                since = clock.now
            } else if clock.now - since >= quiet {
                return
            }
        }
    }
}

/// A standalone worker of a scenario of its own, on a Redis of its own (so that stalling,
/// filling or killing that Redis disturbs no other test), serving HTTP on `port`.
struct IsolatedWorker {
    let redis: RedisTestServer
    let scenario: WorkerScenario
    let port: UInt16
    let worker: WorkerProcessHandle

    static func start(_ label: String, env: [String: String] = [:]) async throws -> IsolatedWorker {
        let redis = try await RedisTestServer.start()
        do {
            let scenario = try await WorkerScenario(label, redisURL: redis.url)
            let port = try TestSocket.freePort()
            let worker = try await scenario.startWorker(id: "w1", env: env.merging(["TOCK_HTTP_PORT": "\(port)"]) { new, _ in new })
            return IsolatedWorker(redis: redis, scenario: scenario, port: port, worker: worker)
        } catch {
            redis.stop()
            throw error
        }
    }

    /// Kills the worker, then the Redis; synchronous, for a `defer`.
    func stop() {
        if worker.isRunning { kill(worker.process.processIdentifier, SIGKILL) }
        redis.stop()
    }
}
