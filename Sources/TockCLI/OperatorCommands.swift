import ArgumentParser
import Foundation
import TockCore
import TockKafka
import TockMonitorKit
import TockRuntime

/// Where the operators' API is, and the token to use there.
struct APIOptions: ParsableArguments {
    @Option(help: "A monitor's HTTP address: go through its API (default: monitor.url, when set).") var monitor: String?
    @Option(help: "An API token (default: TOCK_API_TOKEN; the environment keeps it out of ps).") var token: String?

    /// The API's client when --monitor or monitor.url names one (or always, when `required`:
    /// then this host's http.port is the default); nil to go to Kafka directly.
    func client(_ configuration: TockConfiguration, required: Bool = false) -> APIClient? {
        let given = monitor.flatMap { $0.isEmpty ? nil : $0 } ?? (configuration.monitor.url.isEmpty ? nil : configuration.monitor.url)
        guard given != nil || required else { return nil }
        return APIClient(
            base: MonitorClient.baseURL(option: given, configuration: configuration),
            token: token ?? ProcessInfo.processInfo.environment["TOCK_API_TOKEN"])
    }
}

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead", abstract: "Dead letters: list tock.dead, or requeue one.", subcommands: [DeadListCommand.self, DeadRequeueCommand.self])
}

struct DeadListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The newest dead letters, newest first (from the monitor's API, or from tock.dead itself).")
    @OptionGroup var options: ProcessOptions
    @OptionGroup var api: APIOptions
    @Option(help: "How many (1 to 1000).") var limit = 20

    func validate() throws {
        guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
    }

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        var rows: [(id: String, topic: String, error: String, attempts: Int, time: Int64)] = []
        if let client = api.client(context.configuration) {
            let answer = try await client.call("GET", "/v1/dead?limit=\(limit)", expected: 200)
            for letter in answer["dead"] as? [[String: Any]] ?? [] {
                rows.append(
                    (
                        letter["id"] as? String ?? "?", letter["topic"] as? String ?? "?", letter["error"] as? String ?? "",
                        letter["attempts"] as? Int ?? 0, Int64(letter["time"] as? Int ?? 0)
                    ))
            }
        } else {
            let reader = DeadLetterReader(configuration: context.configuration, logger: context.logger)
            rows = try await reader.newest(limit: limit).map { ($0.id, $0.topic, $0.summary.error, $0.summary.attempts, $0.summary.time) }
        }
        if rows.isEmpty { print("no dead letters") }
        for row in rows {
            let time = Date(timeIntervalSince1970: Double(row.time) / 1_000).formatted(.iso8601)
            print("\(time)  \(row.id)  → \(row.topic)  \(row.error), \(row.attempts) attempt(s)")
        }
    }
}

struct DeadRequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Schedule a dead letter's value, key and headers to its topic again, under its id (even within dedup.retention).")
    @OptionGroup var options: ProcessOptions
    @OptionGroup var api: APIOptions
    @Option(help: "When: epoch ms or RFC 3339 (default: now).") var at: String?
    @Argument(help: "The dead letter's tock-id.") var id: String

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        if let client = api.client(context.configuration) {
            let written = try await client.call(
                "POST", "/v1/dead/\(APIClient.segment(id))/requeue", body: at.map { ["at": $0] } ?? [:], expected: 202)
            print("requeue of \(id) written through \(client.base) to partition \(written["partition"] ?? "?"), offset \(written["offset"] ?? "?")")
            return
        }
        let reader = DeadLetterReader(configuration: context.configuration, logger: context.logger)
        guard let letter = try await reader.find(id: id) else {
            throw ValidationError("no dead letter with tock-id \(id) in \(context.configuration.kafka.deadTopic)")
        }
        let report = try await writeRequest(context.configuration, .requeue(letter, at: at ?? String(SystemWallClock().nowMillis())))
        print("requeue of \(id) (to \(letter.topic)) written to \(report.topic)/\(report.partition)@\(report.offset)")
    }
}

/// Writes an API request record to the first input topic itself, for commands given no monitor.
func writeRequest(_ config: TockConfiguration, _ record: APIRequestRecord) async throws -> KafkaDeliveryReport {
    try await writeRequest(
        config, topic: nil, key: record.key, value: record.value, headers: record.headers.map { KafkaHeader(key: $0.key, value: $0.value) })
}

struct SeriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "series", abstract: "Pause or resume a series.", subcommands: [SeriesPauseCommand.self, SeriesResumeCommand.self])
}

/// Pause and resume: through the API when a monitor is named, else a request on the input topic.
protocol SeriesActionCommand: AsyncParsableCommand {
    static var action: APIRequestRecord.Action { get }
    var options: ProcessOptions { get }
    var api: APIOptions { get }
    var id: String { get }
}

extension SeriesActionCommand {
    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        if let client = api.client(context.configuration) {
            _ = try await client.call("POST", "/v1/series/\(APIClient.segment(id))/\(Self.action.rawValue)", expected: 202)
            print("\(Self.action.rawValue) of series \(id) written through \(client.base)")
            return
        }
        let report = try await writeRequest(context.configuration, .action(Self.action, id: id))
        print("\(Self.action.rawValue) of series \(id) written to \(report.topic)/\(report.partition)@\(report.offset)")
    }
}

struct SeriesPauseCommand: SeriesActionCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause a series: it publishes nothing until resumed.")
    static let action = APIRequestRecord.Action.pause
    @OptionGroup var options: ProcessOptions
    @OptionGroup var api: APIOptions
    @Argument(help: "The series' tock-id.") var id: String
}

struct SeriesResumeCommand: SeriesActionCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume a paused series: the occurrences it missed follow its tock-catchup.")
    static let action = APIRequestRecord.Action.resume
    @OptionGroup var options: ProcessOptions
    @OptionGroup var api: APIOptions
    @Argument(help: "The series' tock-id.") var id: String
}
