import ArgumentParser
import TockRuntime

@main
struct TockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock",
        abstract: "Tock's command line: schedule, inspect and cancel delayed Kafka messages.",
        discussion: environmentHelp,
        subcommands: [DoctorCommand.self, StatusCommand.self, CancelCommand.self, ScheduleCommand.self, StatsCommand.self]
    )
}

/// The SPEC's commands whose back end (the store and the monitor) lands with later issues: they
/// parse their arguments and say plainly that they cannot act yet, rather than pretend.
protocol PendingCommand: AsyncParsableCommand {
    static var needs: String { get }
    var options: ProcessOptions { get }
}

extension PendingCommand {
    func run() async throws {
        _ = ProcessBootstrap.start(processName: "tock", options: options)
        throw CommandFailure("'\(Self.configuration.commandName ?? "")' needs \(Self.needs), which this build does not have yet")
    }
}

struct StatusCommand: PendingCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a message's state, due time and attempts.")
    static let needs = "the Redis schedule store"
    @OptionGroup var options: ProcessOptions
    @Argument(help: "The message's tock-id.") var id: String
}

struct CancelCommand: PendingCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Write a cancel request for a tock-id.")
    static let needs = "the scheduling path"
    @OptionGroup var options: ProcessOptions
    @Argument(help: "The message's tock-id.") var id: String
}

struct ScheduleCommand: PendingCommand {
    static let configuration = CommandConfiguration(commandName: "schedule", abstract: "Write a scheduling request.")
    static let needs = "the scheduling path"
    @OptionGroup var options: ProcessOptions
}

struct StatsCommand: PendingCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print the cluster's workers, shards and epochs.")
    static let needs = "the monitor"
    @OptionGroup var options: ProcessOptions
}

/// A failure reported as "Error: <message>" without the usage text a `ValidationError` adds.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
