import Foundation
import TockCore

extension TockConfiguration {
    /// Loads `path` (or `config/tock.yaml` when nil; a missing default file means "all defaults"),
    /// then applies the environment. Unknown keys and values of the wrong type are errors.
    public static func load(
        path: String?,
        defaultPath: String = TockConfiguration.defaultPath,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> TockConfiguration {
        let file = path ?? defaultPath
        var yaml: String?
        if FileManager.default.fileExists(atPath: file) {
            do { yaml = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ConfigurationError(key: "(file)", source: file, message: "cannot read: \(error.localizedDescription)")
            }
        } else if path != nil {
            throw ConfigurationError(key: "(file)", source: file, message: "no such file")
        }
        var reader = try ConfigurationReader(yaml: yaml, sourceName: file, environment: environment)
        let configuration = try TockConfiguration(reading: &reader)
        try reader.finish()
        return configuration
    }

    /// The worker id to use: the configured one, or "<host>-<pid>".
    public func resolvedWorkerID(processInfo: ProcessInfo = .processInfo) -> String {
        worker.id.isEmpty ? "\(processInfo.hostName)-\(processInfo.processIdentifier)" : worker.id
    }
}
