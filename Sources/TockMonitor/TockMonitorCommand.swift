import ArgumentParser
import TockKafka
import TockMonitorKit
import TockRuntime

@main
struct TockMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock-monitor",
        abstract: "Watches worker heartbeats and assigns shards to live workers; run two, one leads.",
        discussion: environmentHelp
    )

    @OptionGroup var options: ProcessOptions

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock-monitor", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        do {
            try await MonitorProcess.buildMonitor(configuration: context.configuration, logger: context.logger).run()
        } catch {
            ProcessBootstrap.fail("tock-monitor: \(error)", code: 1)
        }
    }
}
