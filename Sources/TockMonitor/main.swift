import ArgumentParser
import TockRuntime

struct TockMonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock-monitor",
        abstract: "Watches worker heartbeats and assigns shards to live workers; run two, one leads.",
        discussion: environmentHelp
    )

    @OptionGroup var options: ProcessOptions

    func run() throws {
        let context = ProcessBootstrap.start(processName: "tock-monitor", options: options)
        context.logger.info("configuration loaded", metadata: ["config": "\(context.configuration.summary)"])
    }
}

TockMonitorCommand.main()
