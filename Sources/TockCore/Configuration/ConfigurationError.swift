/// A configuration problem, always naming the key (or environment variable) at fault.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var source: String
    public var message: String

    public init(key: String, source: String, message: String) {
        self.key = key
        self.source = source
        self.message = message
    }

    public var description: String { "configuration key '\(key)' (\(source)): \(message)" }
}
