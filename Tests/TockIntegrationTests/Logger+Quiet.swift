import Logging

extension Logger {
    /// A logger that lets through only `level` and worse (warnings by default): for what a test
    /// runs in its own process, whose chatter would bury the test's output.
    static func quiet(_ label: String, level: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
