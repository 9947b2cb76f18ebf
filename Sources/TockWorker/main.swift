import ArgumentParser
import TockRuntime

struct TockWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock-worker",
        abstract: "Consumes scheduling requests, stores them in Redis and publishes each at its due time.",
        discussion: environmentHelp
    )

    @OptionGroup var options: ProcessOptions

    func run() throws {
        let context = ProcessBootstrap.start(processName: "tock-worker", options: options)
        context.logger.info("configuration loaded", metadata: [
            "worker": "\(context.configuration.resolvedWorkerID())",
            "config": "\(context.configuration.summary)",
        ])
    }
}

TockWorkerCommand.main()
