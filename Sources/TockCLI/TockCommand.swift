import ArgumentParser
import TockRuntime

@main
struct TockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock",
        abstract: "Tock's command line: schedule, inspect and cancel delayed Kafka messages.",
        discussion: environmentHelp,
        subcommands: [ScheduleCommand.self, StatusCommand.self, CancelCommand.self, StatsCommand.self, ResetWatermarksCommand.self, DemoCommand.self, DoctorCommand.self]
    )
}

/// A failure reported as "Error: <message>" without the usage text a `ValidationError` adds.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print the cluster's workers, shards and epochs (needs tock-monitor).")
    @OptionGroup var options: ProcessOptions

    func run() async throws {
        _ = ProcessBootstrap.start(processName: "tock", options: options)
        throw CommandFailure("'stats' reads tock-monitor's /v1/cluster, which this build does not have yet")
    }
}
