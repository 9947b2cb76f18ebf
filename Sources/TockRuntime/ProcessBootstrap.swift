import Foundation
import Logging
import TockCore
import TockKafka

/// What every Tock executable does before anything else: check the runtime librdkafka, load the
/// configuration, set up logging. Failures end the process with a message and a documented code.
public enum ProcessBootstrap {
    /// librdkafka is older than 2.2.0.
    public static let exitUnsupportedLibrdkafka: Int32 = 2
    /// The configuration is invalid (sysexits EX_CONFIG).
    public static let exitBadConfiguration: Int32 = 78

    public struct Context: Sendable {
        public var processName: String
        public var configuration: TockConfiguration
        public var logger: Logger
    }

    public static func start(processName: String, options: ProcessOptions) -> Context {
        if let problem = LibrdkafkaVersion.runtimeProblem() {
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
