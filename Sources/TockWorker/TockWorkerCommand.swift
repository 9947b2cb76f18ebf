import ArgumentParser
import TockKafka
import TockRuntime
import TockWorkerKit

@main
struct TockWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock-worker",
        abstract: "Consumes scheduling requests, stores them in Redis and publishes each at its due time.",
        discussion: environmentHelp
    )

    @OptionGroup var options: ProcessOptions

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock-worker", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        do {
            try await WorkerProcess.buildWorker(configuration: context.configuration, logger: context.logger).run()
        } catch {
            ProcessBootstrap.fail("tock-worker: \(error)", code: 1)
        }
    }
}
