import ArgumentParser
import Foundation
import TockCore
import TockKafka
import TockMonitorKit
import TockRedis
import TockRuntime
import TockStore

/// Refuses a request the worker would reject for its reserved `tock-topic`, and an input topic
/// that is one of Kafka's internal ones: writing the request there is itself the harm.
func validateTopics(output: String?, input: String?) throws {
    if let output, let reserved = ReservedTopics.prefix(of: output) {
        throw ValidationError("--topic \(output) is reserved: \(reserved.reason)")
    }
    if let input, ReservedTopics.prefix(of: input) == ReservedTopics.kafkaInternal {
        throw ValidationError("--input-topic \(input) is reserved: \(ReservedTopics.kafkaInternal.owner) are never written to")
    }
}

/// Writes one request record to the first input topic and waits for the broker's acknowledgement.
func writeRequest(_ config: TockConfiguration, topic: String?, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader]) async throws
    -> KafkaDeliveryReport
{
    let producer = try KafkaProducer(brokers: config.kafka.brokers, properties: config.kafka.properties)
    defer { Task { await producer.shutdown() } }
    return try await producer.send(KafkaProducerRecord(topic: topic ?? config.kafka.inputTopics[0], key: key, value: value, headers: headers))
}

/// Refuses a tock-id with "@" (SPEC v3 reserves it for occurrence ids, `<series>@<due ms>`): the
/// worker would reject the request as bad-id.
func validateID(_ id: String?, option: String) throws {
    guard let id, let at = id.firstIndex(of: "@") else { return }
    let series = id[..<at]
    throw ValidationError(
        "\(option) \(id) has \"@\", which is reserved for the ids of a series' occurrences (<series>@<due ms>)"
            + (series.isEmpty ? "" : "; an occurrence cannot be named on its own: use the series' id, \(series)"))
}

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Write a scheduling request: publish VALUE to --topic at --at or after --delay, or as a series (--cron or --every).",
        discussion: """
            A series publishes one record per occurrence, with tock-id <id>@<due ms> and tock-series <id>. \
            --at or --delay then set the first occurrence of an --every series (default: one interval from now) \
            and the earliest time of a --cron series.
            """
    )

    @OptionGroup var options: ProcessOptions
    @Option(help: "Output topic (tock-topic).") var topic: String
    @Option(help: "Due time: epoch milliseconds or RFC 3339 (tock-at).") var at: String?
    @Option(help: "Delay from now: 250, 250ms, 30s, 5m, 2h, 7d (tock-delay).") var delay: String?
    @Option(help: "Idempotency key (tock-id); default: the request's topic/partition/offset.") var id: String?
    @Option(help: "Output record key.") var key: String?
    @Option(name: .customLong("header"), help: "A header to copy to the output, name=value (repeatable).") var headers: [String] = []
    @Flag(help: "Replace a pending message with this id (tock-action: reschedule).") var reschedule = false
    @Option(help: "Input topic to write to (default: the first of kafka.inputTopics).") var inputTopic: String?
    @Option(help: "A series on a cron expression, 5 or 6 fields (tock-cron), e.g. \"0 9 * * MON-FRI\".") var cron: String?
    @Option(help: "A series at a fixed interval, at least 1s (tock-every), e.g. 15m.") var every: String?
    @Option(help: "IANA time zone of --cron (tock-tz; default UTC).") var tz: String?
    @Option(help: "No occurrence after this time: epoch ms or RFC 3339 (tock-until).") var until: String?
    @Option(help: "At most this many occurrences (tock-count).") var count: Int?
    @Option(help: "Occurrences missed while no worker could fire them: all, latest or none (tock-catchup).") var catchup: String?
    @Option(help: "Up to 8 comma-separated tags, for cancelling by tag (tock-tags), e.g. user-42,batch-7.") var tags: String?
    @Argument(help: "The payload (UTF-8 text).") var value: String = ""

    /// The series headers given, in SPEC's names.
    var seriesHeaders: [(String, String)] {
        [
            ("tock-cron", cron), ("tock-every", every), ("tock-tz", tz), ("tock-until", until), ("tock-count", count.map(String.init)),
            ("tock-catchup", catchup),
        ].compactMap { name, value in value.map { (name, $0) } }
    }

    func validate() throws {
        if !seriesHeaders.isEmpty {
            if (cron == nil) == (every == nil) { throw ValidationError("a series needs exactly one of --cron and --every") }
            if at != nil && delay != nil { throw ValidationError("give at most one of --at and --delay") }
        } else if (at == nil) == (delay == nil) {
            throw ValidationError("give exactly one of --at and --delay (or --cron / --every for a series)")
        }
        if reschedule && id == nil { throw ValidationError("--reschedule needs --id") }
        if let tags, case .failure(let rejection) = TagList.parse(utf8: Array(tags.utf8)) { throw ValidationError("--tags: \(rejection.detail)") }
        try validateID(id, option: "--id")
        try validateTopics(output: topic, input: inputTopic)
    }

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        var tockHeaders: [KafkaHeader] = []
        for header in headers {
            guard let equals = header.firstIndex(of: "=") else { throw ValidationError("--header needs name=value, got \(header)") }
            tockHeaders.append(KafkaHeader(key: String(header[..<equals]), string: String(header[header.index(after: equals)...])))
        }
        tockHeaders.append(KafkaHeader(key: "tock-topic", string: topic))
        if let at { tockHeaders.append(KafkaHeader(key: "tock-at", string: at)) }
        if let delay { tockHeaders.append(KafkaHeader(key: "tock-delay", string: delay)) }
        if let id { tockHeaders.append(KafkaHeader(key: "tock-id", string: id)) }
        if reschedule { tockHeaders.append(KafkaHeader(key: "tock-action", string: "reschedule")) }
        if let tags { tockHeaders.append(KafkaHeader(key: "tock-tags", string: tags)) }
        for (name, value) in seriesHeaders { tockHeaders.append(KafkaHeader(key: name, string: value)) }
        let report = try await writeRequest(
            context.configuration, topic: inputTopic, key: key.map { Array($0.utf8) },
            value: Array(value.utf8), headers: tockHeaders)
        let resolvedID = id ?? "\(report.topic)/\(report.partition)/\(report.offset)"
        print("request written to \(report.topic)/\(report.partition)@\(report.offset); tock-id \(resolvedID)")
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Write a cancel request for a tock-id (or cancel every message with a tag), and say what it can still do.",
        discussion: """
            A worker applies the cancel when it reads the request. A message whose delivery has begun \
            (delivery.lockAhead, 250 ms by default, before its due time) is published all the same: \
            the command then says so and exits with status \(tooLateExitCode), as it does when the message \
            had already ended. With --monitor (or monitor.url), the cancel goes through the monitor's API. \
            --tag always does: the leading monitor runs the job, and the command follows it until it is done.
            """
    )
    static let tooLateExitCode: Int32 = 3

    @OptionGroup var options: ProcessOptions
    @OptionGroup var api: APIOptions
    @Option(help: "Input topic to write to (default: the first of kafka.inputTopics).") var inputTopic: String?
    @Option(help: "Cancel every pending message and series with this tag (through the monitor's API).") var tag: String?
    @Flag(help: "With --tag: print the job and return at once.") var noWait = false
    @Argument(help: "The message's tock-id.") var id: String?

    func validate() throws {
        guard (id == nil) != (tag == nil) else { throw ValidationError("give a tock-id or --tag, not both and not neither") }
        try validateID(id, option: "tock-id")
        try validateTopics(output: nil, input: inputTopic)
    }

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        if let tag {
            try await cancelTag(tag, client: api.client(context.configuration, required: true)!)
            return
        }
        guard let id else { return }
        if let client = api.client(context.configuration) {
            let written = try await client.call("DELETE", "/v1/messages/\(APIClient.segment(id))", expected: 202)
            print(
                "cancel request for \(id) written through \(client.base) to partition \(written["partition"] ?? "?"), offset \(written["offset"] ?? "?")"
            )
            return
        }
        let store = try await openStore(context.configuration)
        let clock = SystemWallClock()
        let before = try await store.status(of: id, nowMillis: clock.nowMillis())
        let report = try await writeRequest(
            context.configuration, topic: inputTopic, key: nil, value: [],
            headers: [
                KafkaHeader(key: "tock-action", string: "cancel"), KafkaHeader(key: "tock-id", string: id),
            ])
        print("cancel request for \(id) written to \(report.topic)/\(report.partition)@\(report.offset)")
        let checkedAt = clock.nowMillis()
        let after = try await store.status(of: id, nowMillis: checkedAt)
        await store.client.close()
        let verdict = CancelReport(
            id: id, before: .init(before), after: .init(after), afterMillis: checkedAt,
            lockAheadMillis: context.configuration.delivery.lockAheadMillis)
        print(verdict.text)
        if verdict.isTooLate { throw ExitCode(Self.tooLateExitCode) }
    }
}

extension CancelCommand {
    func cancelTag(_ tag: String, client: APIClient) async throws {
        let created = try await client.call("DELETE", "/v1/tags/\(APIClient.segment(tag))", expected: 202)
        let job = created["job"] as? String ?? ""
        print("cancel of tag \(tag): job \(job) (GET \(client.base)/v1/jobs/\(job))")
        guard !noWait else { return }
        while true {
            let report = try await client.call("GET", "/v1/jobs/\(APIClient.segment(job))", expected: 200)
            let state = report["state"] as? String ?? "?"
            print("\(state): \(report["cancelled"] ?? 0) cancel request(s) written, \(report["shardsLeft"] ?? "?") shard(s) left")
            if state == "done" { return }
            try await Task.sleep(for: .seconds(1))
        }
    }
}

func openStore(_ config: TockConfiguration) async throws -> ScheduleStore {
    try ScheduleStore(client: try await RedisClient.connect(config, poolSize: 1), configuration: config)
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a message's or a series' state, due time and attempts, from Redis.",
        discussion:
            "For a series: its definition, the occurrences fired so far and the next one. An occurrence's id (<series>@<due ms>) shows its series."
    )
    @OptionGroup var options: ProcessOptions
    @Argument(help: "The message's or series' tock-id.") var id: String

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        let store = try await openStore(context.configuration)
        let now = SystemWallClock().nowMillis()
        let (status, occurrenceOf) = try await store.lookUp(id, nowMillis: now)
        if let occurrenceOf { print("\(id) is an occurrence of series \(occurrenceOf); the series:") }
        print("id:        \(status.id)")
        print("shard:     \(status.shard)")
        print("state:     \(status.state.rawValue)")
        if let series = status.series, let definition = status.message?.series {
            print("series:    \(definition.summary)")
            print("fired:     \(series.fired) occurrence(s) so far")
            print(
                "next:      \(series.dueMillis) (\(Date(timeIntervalSince1970: Double(series.dueMillis) / 1000))), tock-id \(OccurrenceKey.publishedId(series: status.id, dueMillis: series.dueMillis))"
            )
        } else if let message = status.message {
            print("due:       \(message.dueMillis) (\(Date(timeIntervalSince1970: Double(message.dueMillis) / 1000)))")
        } else if status.state == .cold, let due = status.scoreMillis {
            print("due:       \(due) (\(Date(timeIntervalSince1970: Double(due) / 1000)))")
            print("cold:      its record is in the cold topics until it is moved into the hot store, ahead of its due time")
        }
        if let message = status.message {
            print("topic:     \(message.topic)")
            print("payload:   \(message.value.map { "\($0.count) bytes" } ?? "null")")
        }
        if let score = status.scoreMillis, status.state != .cold {
            print(status.state == .delivering ? "lease:     until \(score)" : "next fire: \(score)")
        }
        print("attempts:  \(status.attempts)")
        if status.state == .unknown {
            print("(unknown: never scheduled, or ended longer ago than dedup.retention, or ended with a default id)")
        }
        await store.client.close()
    }
}

struct ResetWatermarksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-watermarks",
        abstract: "Take an input topic's partitions (or one) for new ones: their next records are all stored.",
        discussion: """
            Not needed after a topic was deleted and recreated, or after a broker lost records and reused \
            their offsets: workers recognise such a partition by its topic id and by the record at the \
            offset they stored last, and store its records as a new incarnation (SPEC guarantee 6). This \
            is the override for what they cannot verify (they log and count it: \
            tock_partition_checks_total{result="unverified"}): every record read after it is stored, under \
            default ids of a new generation (<topic>/<partition>/<offset>~<generation>). Stop the workers' \
            consumption of the topic first, or records read meanwhile may be stored twice.
            """
    )
    @OptionGroup var options: ProcessOptions
    @Option(help: "Only this partition.") var partition: Int32?
    @Argument(help: "The input topic.") var topic: String

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        let store = try await openStore(context.configuration)
        let generations = try await store.restartPartitions(topic: topic, partition: partition)
        if generations.isEmpty { print("no watermark of \(topic)\(partition.map { "/\($0)" } ?? "") is stored") }
        for (number, generation) in generations.sorted(by: { $0.key < $1.key }) {
            print("\(topic)/\(number): generation \(generation) begins")
        }
        await store.client.close()
    }
}
