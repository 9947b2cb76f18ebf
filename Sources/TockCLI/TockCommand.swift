import ArgumentParser
import TockRuntime

@main
struct TockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock",
        abstract: "Tock's command line: schedule, inspect and cancel delayed Kafka messages.",
        discussion: environmentHelp,
        subcommands: [
            ScheduleCommand.self, StatusCommand.self, CancelCommand.self, StatsCommand.self, ResetWatermarksCommand.self, DemoCommand.self,
            DoctorCommand.self, DeadCommand.self, SeriesCommand.self,
        ]
    )
}

/// A failure reported as "Error: <message>" without the usage text a `ValidationError` adds.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
