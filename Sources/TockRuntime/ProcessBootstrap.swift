import Foundation
import Logging
import TockCore

/// What every Tock executable does before anything else: check its runtime libraries (the ones
/// that use Kafka: librdkafka's version), load the configuration, set up logging. Failures end the process with a message and a documented code.
public enum ProcessBootstrap {
    /// A runtime library is unsupported (librdkafka older than 2.2.0).
    public static let exitUnsupportedLibrdkafka: Int32 = 2
    /// The configuration is invalid (sysexits EX_CONFIG).
    public static let exitBadConfiguration: Int32 = 78

    public struct Context: Sendable {
        public var processName: String
        public var configuration: TockConfiguration
        public var logger: Logger
    }

    /// - Parameter runtimeProblem: what is wrong with the process's runtime libraries, if anything
    ///   (`LibrdkafkaVersion.runtimeProblem` for the executables that use Kafka).
    public static func start(processName: String, options: ProcessOptions, runtimeProblem: () -> String? = { nil }) -> Context {
        if let problem = runtimeProblem() {
            fail("\(processName): \(problem)", code: exitUnsupportedLibrdkafka)
        }
        let configuration: TockConfiguration
        do {
            configuration = try TockConfiguration.load(path: options.config)
        } catch {
            fail("\(processName): \(error)", code: exitBadConfiguration)
        }
        let level = Logger.Level(rawValue: configuration.log.level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: processName)
        logger.logLevel = level
        return Context(processName: processName, configuration: configuration, logger: logger)
    }

    public static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}
