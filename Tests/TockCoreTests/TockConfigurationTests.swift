import Foundation
import Testing

@testable import TockCore

@Suite("Configuration")
struct TockConfigurationTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shippedFile = repositoryRoot.appendingPathComponent("config/tock.yaml").path

    func load(_ yaml: String, env: [String: String] = [:]) throws -> TockConfiguration {
        var reader = try ConfigurationReader(yaml: yaml, sourceName: "test.yaml", environment: env)
        let configuration = try TockConfiguration(reading: &reader)
        try reader.finish()
        return configuration
    }

    func expectError(_ yaml: String, env: [String: String] = [:], key: String, containing text: String) {
        do {
            _ = try load(yaml, env: env)
            Issue.record("expected an error for \(key)")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(error.description.contains(text), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("config/tock.yaml holds every key, with exactly the built-in defaults")
    func shippedFileMatchesDefaults() throws {
        let yaml = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        var reader = try ConfigurationReader(yaml: yaml, sourceName: "config/tock.yaml", environment: [:])
        let loaded = try TockConfiguration(reading: &reader)
        try reader.finish()
        #expect(loaded == TockConfiguration())
        for (key, _) in reader.keysRead {
            let leaf = key.split(separator: ".").last.map(String.init) ?? key
            #expect(yaml.contains("\(leaf):"), "config/tock.yaml lacks \(key)")
        }
    }

    @Test("SPEC environment overrides: brokers, Redis URL, worker id, HTTP port")
    func specEnvironmentOverrides() throws {
        let c = try load(
            "",
            env: [
                "TOCK_KAFKA_BROKERS": "k1:9092,k2:9092",
                "TOCK_REDIS_URL": "redis://:pw@r:6380/2",
                "TOCK_WORKER_ID": "w-7",
                "TOCK_HTTP_PORT": "0",
            ])
        #expect(c.kafka.brokers == "k1:9092,k2:9092")
        #expect(c.redis.url == "redis://:pw@r:6380/2")
        #expect(c.worker.id == "w-7")
        #expect(c.http.port == 0)
    }

    @Test("http.host (SPEC v3): 127.0.0.1 by default, TOCK_HTTP_HOST overrides it")
    func httpHost() throws {
        #expect(try load("").http.host == "127.0.0.1")
        #expect(try load("", env: ["TOCK_HTTP_HOST": "0.0.0.0"]).http.host == "0.0.0.0")
    }

    @Test("every key has an environment override; the environment beats the file")
    func environmentBeatsFile() throws {
        let c = try load(
            """
            kafka:
              inputTopics: [a]
            delivery:
              backoff:
                initial: 2s
            cluster:
              mode: standalone
            """, env: ["TOCK_KAFKA_INPUT_TOPICS": "x, y", "TOCK_DELIVERY_BACKOFF_INITIAL": "250ms", "TOCK_CLUSTER_MODE": "monitored"])
        #expect(c.kafka.inputTopics == ["x", "y"])
        #expect(c.delivery.backoffInitialMillis == 250)
        #expect(c.cluster.mode == .monitored)
        #expect(ConfigurationReader.environmentVariable(for: "kafka.inputTopics") == "TOCK_KAFKA_INPUT_TOPICS")
    }

    @Test("nested values and librdkafka properties are read")
    func nestedValues() throws {
        let c = try load(
            """
            store: {shards: 128}
            kafka:
              properties:
                security.protocol: plaintext
                socket.keepalive.enable: "true"
            dedup: {retention: 2h}
            limits: {maxHorizon: 7d}
            """)
        #expect(c.store.shards == 128)
        #expect(c.kafka.properties == ["security.protocol": "plaintext", "socket.keepalive.enable": "true"])
        #expect(c.dedup.retentionMillis == 7_200_000)
        #expect(c.limits.maxHorizonMillis == 7 * 86_400_000)
    }

    @Test("an unknown key is an error that names it")
    func unknownKey() {
        expectError("kafka:\n  brokerz: x\n", key: "kafka.brokerz", containing: "unknown key")
        expectError("deliveryy: {maxAttempts: 3}\n", key: "deliveryy.maxAttempts", containing: "unknown key")
    }

    @Test("a value of the wrong type is an error that names the key")
    func wrongType() {
        expectError("delivery: {maxAttempts: ten}\n", key: "delivery.maxAttempts", containing: "expected an integer")
        expectError("kafka: {inputTopics: tock.requests}\n", key: "kafka.inputTopics", containing: "list")
        expectError("dedup: {retention: soon}\n", key: "dedup.retention", containing: "duration")
        expectError("kafka: {brokers: {a: b}}\n", key: "kafka.brokers", containing: "mapping")
        expectError("http: {port: 70000}\n", key: "http.port", containing: "out of range")
        expectError("cluster: {mode: solo}\n", key: "cluster.mode", containing: "standalone")
        expectError("", env: ["TOCK_HTTP_PORT": "eighty"], key: "http.port", containing: "environment TOCK_HTTP_PORT")
    }

    @Test("invalid YAML is an error, not a crash")
    func invalidYAML() {
        #expect(throws: ConfigurationError.self) { try load("kafka: [unclosed\n") }
    }
}

@Suite("Rate limits configuration")
struct RateLimitsConfigurationTests {
    func load(_ yaml: String?, environment: [String: String]) throws -> TockConfiguration {
        var reader = try ConfigurationReader(yaml: yaml, sourceName: "test.yaml", environment: environment)
        let configuration = try TockConfiguration(reading: &reader)
        try reader.finish()
        return configuration
    }

    @Test("output.rateLimits from YAML and from TOCK_OUTPUT_RATE_LIMITS; a topic under several globs takes the lowest rate")
    func read() throws {
        let yaml = """
            output:
              rateLimits:
                "orders.*": 1000
                billing: 50
            """
        let fromFile = try load(yaml, environment: [:])
        #expect(fromFile.output.rateLimits == RateLimits(["orders.*": 1_000, "billing": 50]))
        let fromEnvironment = try load(yaml, environment: ["TOCK_OUTPUT_RATE_LIMITS": "orders.*=1000, orders.eu=10,billing=50"])
        let limits = fromEnvironment.output.rateLimits
        #expect(limits.limit(for: "orders.eu")?.perSecond == 10 && limits.limit(for: "orders.eu")?.glob == "orders.eu")
        #expect(limits.limit(for: "orders.us") == RateLimits.Limit(glob: "orders.*", perSecond: 1_000))
        #expect(limits.limit(for: "audit") == nil)
        #expect(try load(nil, environment: [:]).output.rateLimits.isEmpty)
    }

    @Test("a rate that is not a whole number from 1 to 50,000, or an entry without =, is an error naming it")
    func refused() {
        for (yaml, environment) in [
            ("output:\n  rateLimits:\n    orders: 0\n", [:]), ("", ["TOCK_OUTPUT_RATE_LIMITS": "orders=fast"]),
            ("", ["TOCK_OUTPUT_RATE_LIMITS": "orders"]), ("", ["TOCK_OUTPUT_RATE_LIMITS": "orders=50001"]),
        ] {
            #expect(throws: ConfigurationError.self) { try load(yaml, environment: environment) }
        }
    }
    func error(_ yaml: String?, _ environment: [String: String]) -> ConfigurationError? {
        do {
            _ = try load(yaml, environment: environment)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test(
        "a glob given twice is an error, not the last value silently: environment and YAML",
        arguments: [
            (nil, "x=1,x=2", "output.rateLimits.x", "environment TOCK_OUTPUT_RATE_LIMITS", "given more than once (1, then 2)"),
            (
                nil, " orders.* = 5, billing=1 ,orders.*=6", "output.rateLimits.orders.*", "environment TOCK_OUTPUT_RATE_LIMITS",
                "more than once (5, then 6)"
            ),
            // The YAML parser refuses a mapping's repeated key itself (it did before v3 too)…
            ("output:\n  rateLimits:\n    x: 1\n    x: 2\n", nil, "(document)", "test.yaml", "duplicated key(s): 'x'"),
            // …but not one name spelled as a dotted key and as a nested one.
            (
                "output:\n  rateLimits:\n    \"orders.*\": 1\n    orders:\n      \"*\": 2\n", nil, "output.rateLimits.orders.*", "test.yaml",
                "given more than once"
            ),
        ] as [(String?, String?, String, String, String)])
    func repeatedGlob(yaml: String?, environment: String?, key: String, source: String, message: String) {
        let error = error(yaml, environment.map { ["TOCK_OUTPUT_RATE_LIMITS": $0] } ?? [:])
        #expect(error?.key == key && error?.source == source, "\(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("a glob with a character no topic name has is an error naming it; a \";\" hints at the comma")
    func badGlobCharacters() {
        let semicolon = error(nil, ["TOCK_OUTPUT_RATE_LIMITS": "x=5;y=6"])
        #expect(
            semicolon
                == ConfigurationError(
                    key: "output.rateLimits", source: "environment TOCK_OUTPUT_RATE_LIMITS",
                    message:
                        "\"x=5;y\" is not a topic glob: \"=\" cannot be in a topic name (a-z A-Z 0-9 . _ - and the wildcards * ?); entries are separated by commas: name=value,name=value"
                ), "\(String(describing: semicolon))")
        for (yaml, environment, character) in [
            (nil, "orders eu=5", " "), (nil, "orders/eu=5", "/"), (nil, "orders:eu=5", ":"), (nil, "=5", nil),
            ("output:\n  rateLimits:\n    \"orders#\": 5\n", nil, "#"), ("output:\n  rateLimits:\n    \"café\": 5\n", nil, "é"),
        ] as [(String?, String?, String?)] {
            let error = error(yaml, environment.map { ["TOCK_OUTPUT_RATE_LIMITS": $0] } ?? [:])
            #expect(error?.key.hasPrefix("output.rateLimits") == true, "\(String(describing: error))")
            if let character {
                #expect(error?.message.contains("\"\(character)\" cannot be in a topic name") == true, "\(String(describing: error))")
            }
        }
        let fine = try? load(nil, environment: ["TOCK_OUTPUT_RATE_LIMITS": "*=9,orders.?u=5,A-Z_0.9=1,__x=2"])
        #expect(fine?.output.rateLimits.limits.count == 4)
    }
}
