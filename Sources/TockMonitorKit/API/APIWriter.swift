import Foundation
import Logging
import Synchronization
import TockCore
import TockKafka

/// Writes the API's request records to the first input topic and its audit records to
/// `api.auditTopic`, each acknowledged by Kafka (`acks=all`, idempotent) before the API answers.
///
/// Its producer is made on the first write: a monitor nobody writes through keeps no connection
/// to the brokers (most don't; the tests start dozens).
public final class APIWriter: Sendable {
    public let inputTopic: String
    public let auditTopic: String
    private let brokers: String
    private let properties: [String: String]
    private let logger: Logger
    private let made = Mutex<KafkaProducer?>(nil)

    public init(configuration: TockConfiguration, logger: Logger) {
        inputTopic = configuration.kafka.inputTopics[0]
        auditTopic = configuration.api.auditTopic
        var properties = configuration.kafka.properties.merging(configuration.kafka.producerProperties) { _, new in new }
        // An operator waits for the answer: a broker that cannot take the record within this is
        // an error to report, not a reason to hang.
        properties["message.timeout.ms"] = properties["message.timeout.ms"] ?? "10000"
        properties["client.id"] = "tock-monitor-api"
        self.properties = properties
        brokers = configuration.kafka.brokers
        self.logger = logger
    }

    private var producer: KafkaProducer {
        get throws(KafkaError) {
            do {
                return try made.withLock { made in
                    if let made { return made }
                    let producer = try KafkaProducer(brokers: brokers, properties: properties, logger: logger)
                    made = producer
                    return producer
                }
            } catch let error as KafkaError {
                throw error
            } catch {
                throw KafkaError(code: .state, message: "the API's producer could not be made: \(error)")
            }
        }
    }

    /// Writes `record` to the input topic; its partition and offset once acknowledged.
    public func write(_ record: APIRequestRecord) async throws(KafkaError) -> KafkaDeliveryReport {
        try await producer.send(
            KafkaProducerRecord(
                topic: inputTopic, key: record.key, value: record.value,
                headers: record.headers.map { KafkaHeader(key: $0.key, value: $0.value) }))
    }

    /// Writes `records` to the input topic at once; throws the first failure.
    public func writeAll(_ records: [APIRequestRecord]) async throws(KafkaError) {
        let results = try await producer.send(
            records.map {
                KafkaProducerRecord(
                    topic: inputTopic, key: $0.key, value: $0.value, headers: $0.headers.map { KafkaHeader(key: $0.key, value: $0.value) })
            })
        for result in results { _ = try result.get() }
    }

    /// Writes one audit record (a JSON value), keyed by the caller's name.
    public func audit(_ entry: APIAuditEntry) async throws(KafkaError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let value = (try? encoder.encode(entry)).map(Array.init) ?? Array("{}".utf8)
        _ = try await producer.send(KafkaProducerRecord(topic: auditTopic, key: Array(entry.token.utf8), value: value))
    }

    public func shutdown() async {
        if let producer = made.withLock({ $0 }) { await producer.shutdown(timeout: .seconds(5)) }
    }
}

/// One record of `tock.audit` (SPEC "Audit"): never the token, only its name.
public struct APIAuditEntry: Codable, Sendable, Equatable {
    /// Epoch milliseconds.
    public var time: Int64
    /// The token's name, `anonymous` (none given) or `invalid` (one that matches no token).
    public var token: String
    public var remote: String
    public var method: String
    public var path: String
    public var status: Int
    /// The tock-id the write named or was given, when there is one.
    public var id: String?
    /// Why it was refused or failed.
    public var reason: String?

    public init(time: Int64, token: String, remote: String, method: String, path: String, status: Int, id: String? = nil, reason: String? = nil) {
        self.time = time
        self.token = token
        self.remote = remote
        self.method = method
        self.path = path
        self.status = status
        self.id = id
        self.reason = reason
    }
}
