import Yams

/// Reads typed configuration values by dotted key from a YAML document and the environment.
///
/// Every key has an environment override named `TOCK_` + the key in upper snake case
/// (`kafka.inputTopics` → `TOCK_KAFKA_INPUT_TOPICS`) unless it declares another. The reader
/// records the keys it was asked for, so `finish()` can reject keys nobody reads (typos).
public struct ConfigurationReader {
    private var leaves: [String: Node] = [:]
    private var mappings: Set<String> = []
    private var consumed: Set<String> = []
    private let environment: [String: String]
    private let sourceName: String
    /// Every key read, in order, with its environment variable: the basis of the docs' table.
    public private(set) var keysRead: [(key: String, environmentVariable: String)] = []

    public init(yaml: String?, sourceName: String, environment: [String: String]) throws {
        self.environment = environment
        self.sourceName = sourceName
        guard let yaml, !yaml.allSatisfy(\.isWhitespace) else { return }
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw ConfigurationError(key: "(document)", source: sourceName, message: "not valid YAML: \(error)")
        }
        guard let root else { return }
        guard case .mapping = root else {
            throw ConfigurationError(key: "(document)", source: sourceName, message: "expected a mapping at the top level")
        }
        try flatten(root, path: "")
    }

    private mutating func flatten(_ node: Node, path: String) throws {
        switch node {
        case .mapping(let mapping):
            if !path.isEmpty {
                if leaves[path] != nil { throw ConfigurationError(key: path, source: sourceName, message: "given more than once") }
                mappings.insert(path)
            }
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else {
                    throw ConfigurationError(key: path.isEmpty ? "(document)" : path, source: sourceName, message: "keys must be strings")
                }
                try flatten(value, path: path.isEmpty ? key : "\(path).\(key)")
            }
        default:
            // `a: {b: 1}` and `a.b: 2` name one key; so do a mapping's repeated keys.
            if leaves[path] != nil || mappings.contains(path) {
                throw ConfigurationError(key: path, source: sourceName, message: "given more than once")
            }
            leaves[path] = node
        }
    }

    public static func environmentVariable(for key: String) -> String {
        var name = "TOCK"
        for component in key.split(separator: ".") {
            name += "_"
            for character in component {
                if character.isUppercase { name += "_" }
                name += character.uppercased()
            }
        }
        return name
    }

    /// Errors for every key in the document that no reader asked for.
    public func finish() throws {
        let unknown = leaves.keys.filter { path in
            !consumed.contains(path) && !consumed.contains(where: { path.hasPrefix($0 + ".") })
        }.sorted()
        if let first = unknown.first {
            let more = unknown.count > 1 ? " (also: \(unknown.dropFirst().joined(separator: ", ")))" : ""
            throw ConfigurationError(key: first, source: sourceName, message: "unknown key\(more)")
        }
    }

    // MARK: - Typed reads

    private enum Raw {
        case environment(name: String, value: String)
        case yaml(Node)
    }

    private mutating func raw(_ key: String, env: String?) throws -> Raw? {
        let variable = env ?? Self.environmentVariable(for: key)
        consumed.insert(key)
        keysRead.append((key, variable))
        if let value = environment[variable] { return .environment(name: variable, value: value) }
        if mappings.contains(key) {
            throw ConfigurationError(key: key, source: sourceName, message: "expected a value, got a mapping")
        }
        return leaves[key].map(Raw.yaml)
    }

    private func error(_ key: String, _ raw: Raw, _ message: String) -> ConfigurationError {
        switch raw {
        case .environment(let name, _): ConfigurationError(key: key, source: "environment \(name)", message: message)
        case .yaml: ConfigurationError(key: key, source: sourceName, message: message)
        }
    }

    private func scalar(_ key: String, _ raw: Raw, expected: String) throws -> String {
        switch raw {
        case .environment(_, let value): return value
        case .yaml(let node):
            guard case .scalar(let scalar) = node else {
                throw error(key, raw, "expected \(expected), got a \(node.isSequence ? "list" : "mapping")")
            }
            if scalar.tag == Tag(.null) || (scalar.style == .plain && ["~", "null", ""].contains(scalar.string)) {
                throw error(key, raw, "expected \(expected), got null")
            }
            return scalar.string
        }
    }

    public mutating func string(_ key: String, default value: String, env: String? = nil) throws -> String {
        guard let raw = try raw(key, env: env) else { return value }
        return try scalar(key, raw, expected: "a string")
    }

    public mutating func int(_ key: String, default value: Int, range: ClosedRange<Int>? = nil, env: String? = nil) throws -> Int {
        guard let raw = try raw(key, env: env) else { return value }
        let text = try scalar(key, raw, expected: "an integer")
        guard let parsed = Int(text.trimmingASCIIWhitespace()) else { throw error(key, raw, "expected an integer, got \"\(text)\"") }
        if let range, !range.contains(parsed) {
            throw error(key, raw, "\(parsed) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return parsed
    }

    public mutating func bool(_ key: String, default value: Bool, env: String? = nil) throws -> Bool {
        guard let raw = try raw(key, env: env) else { return value }
        let text = try scalar(key, raw, expected: "a boolean")
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error(key, raw, "expected a boolean (true/false), got \"\(text)\"")
        }
    }

    /// A duration in milliseconds: `250` (ms), `250ms`, `30s`, `5m`, `2h`, `7d`.
    public mutating func durationMillis(_ key: String, default value: Int64, minimum: Int64 = 0, env: String? = nil) throws -> Int64 {
        guard let raw = try raw(key, env: env) else { return value }
        let text = try scalar(key, raw, expected: "a duration")
        let millis: Int64
        do { millis = try DurationText.parseMillis(text) } catch {
            throw self.error(key, raw, "expected a duration like 250ms, 30s, 5m, 2h or 7d, got \"\(text)\"")
        }
        if millis < minimum {
            throw error(key, raw, "must be at least \(DurationText.format(millis: minimum)), got \"\(text)\"")
        }
        return millis
    }

    /// A list: a YAML sequence of strings, or comma-separated in the environment.
    public mutating func stringList(_ key: String, default value: [String], env: String? = nil) throws -> [String] {
        guard let raw = try raw(key, env: env) else { return value }
        switch raw {
        case .environment(_, let text):
            return text.split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
        case .yaml(let node):
            guard case .sequence(let sequence) = node else {
                throw error(key, raw, "expected a list of strings")
            }
            return try sequence.map { item in
                guard case .scalar(let scalar) = item else { throw error(key, raw, "expected a list of strings, found a nested value") }
                return scalar.string
            }
        }
    }

    /// A map of names to positive integers: a YAML mapping, or `name=value,…` in the environment.
    /// A name given twice is an error, not the last value silently. `checkName` returns why a name
    /// cannot be one, or nil.
    public mutating func positiveIntMap(_ key: String, checkName: (String) -> String? = { _ in nil }) throws -> [String: Int] {
        let variable = Self.environmentVariable(for: key)
        var entries: [(String, String)] = []
        let source: String
        let fromEnvironment = environment[variable] != nil
        if let text = environment[variable] {
            consumed.insert(key)
            keysRead.append((key, variable))
            source = "environment \(variable)"
            for item in text.split(separator: ",") where !item.trimmingASCIIWhitespace().isEmpty {
                guard let equals = item.lastIndex(of: "=") else {
                    throw ConfigurationError(key: key, source: source, message: "expected name=value, got \"\(item)\"")
                }
                entries.append((item[..<equals].trimmingASCIIWhitespace(), item[item.index(after: equals)...].trimmingASCIIWhitespace()))
            }
        } else {
            source = sourceName
            // A YAML mapping cannot repeat a name: `flatten` refuses a path given twice.
            entries = try stringMap(key).map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
            keysRead[keysRead.count - 1] = (key, variable)
        }
        var result: [String: Int] = [:]
        for (name, value) in entries {
            guard !name.isEmpty else {
                throw ConfigurationError(key: key, source: source, message: "an entry has no name before \"=\" (\"=\(value)\")")
            }
            if let problem = checkName(name) {
                // "x=5;y=6" reads as the name "x=5;y": say how entries are separated.
                let hint =
                    fromEnvironment && name.contains(where: { $0 == "=" || $0 == ";" })
                    ? "; entries are separated by commas: name=value,name=value" : ""
                throw ConfigurationError(key: key, source: source, message: problem + hint)
            }
            guard let number = Int(value), number >= 1 else {
                throw ConfigurationError(key: "\(key).\(name)", source: source, message: "expected a whole number of at least 1, got \"\(value)\"")
            }
            if let earlier = result[name] {
                throw ConfigurationError(
                    key: "\(key).\(name)", source: source, message: "given more than once (\(earlier), then \(number)); give each name once")
            }
            result[name] = number
        }
        return result
    }

    /// A free-form string map (e.g. librdkafka properties) under `key`; not overridable as a whole.
    public mutating func stringMap(_ key: String) throws -> [String: String] {
        consumed.insert(key)
        keysRead.append((key, "-"))
        var result: [String: String] = [:]
        for (path, node) in leaves where path.hasPrefix(key + ".") {
            guard case .scalar(let scalar) = node else {
                throw ConfigurationError(key: path, source: sourceName, message: "expected a string value")
            }
            result[String(path.dropFirst(key.count + 1))] = scalar.string
        }
        if let node = leaves[key], case .scalar(let scalar) = node, scalar.tag != Tag(.null), !["~", "null", "", "{}"].contains(scalar.string) {
            throw ConfigurationError(key: key, source: sourceName, message: "expected a mapping")
        }
        return result
    }
}

private extension Node {
    var isSequence: Bool { if case .sequence = self { return true } else { return false } }
}
