import Foundation
import Logging
import Synchronization
import Testing
import TockKafka

/// Shared settings and helpers of the Kafka integration tests.
enum KafkaTestSupport {
    static var brokers: String { TestStack.shared.kafkaBrokers }

    static func logger(_ label: String, level: Logger.Level = .notice) -> Logger { .quiet("test.kafka.\(label)", level: level) }

    /// The broker holds a JoinGroup for about half the session timeout, so a short one keeps
    /// group joins near 3 s.
    static let consumerProperties: [String: String] = [
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "500",
    ]

    /// A producer on `brokers` (the shared stack's by default) with `properties`, logging as `label`.
    static func producer(
        _ label: String, brokers: String = brokers, properties: [String: String] = [:], level: Logger.Level = .notice
    ) throws -> KafkaProducer {
        try KafkaProducer(brokers: brokers, properties: properties, logger: logger(label, level: level))
    }

    /// A consumer of `topics` on the shared stack in group `groupId`, with `consumerProperties`
    /// unless given others, logging as `label`.
    static func consumer(
        _ label: String, groupId: String, topics: [String], properties: [String: String] = consumerProperties,
        rebalanceHandler: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil
    ) throws -> KafkaConsumer {
        try KafkaConsumer(
            brokers: brokers, groupId: groupId, topics: topics, properties: properties, logger: logger(label), rebalanceHandler: rebalanceHandler)
    }

    /// An admin client on the shared stack, logging as `label`.
    static func admin(_ label: String = "admin") throws -> KafkaAdmin {
        try KafkaAdmin(brokers: brokers, logger: logger(label))
    }

    /// Creates `topic` with `partitions` through an admin client of its own (logging as `label`),
    /// closed afterwards.
    static func createTopic(_ topic: String, partitions: Int, label: String = "admin") async throws {
        let admin = try admin(label)
        try await admin.createTopic(topic, partitions: partitions)
        await admin.close()
    }

    /// Polls until `count` messages arrived or `within` elapsed; returns what arrived.
    static func poll(_ consumer: KafkaConsumer, count: Int, within: Duration = .seconds(15)) async throws -> [KafkaConsumerMessage] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: within)
        var messages: [KafkaConsumerMessage] = []
        while messages.count < count && clock.now < deadline {
            messages += try await consumer.poll(maxMessages: count - messages.count, timeout: .milliseconds(250))
        }
        return messages
    }

    static func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }
}

/// Collects values handed to a `@Sendable` callback.
final class KafkaEventLog<Event: Sendable>: Sendable {
    private let events = Mutex<[Event]>([])

    func append(_ event: Event) { events.withLock { $0.append(event) } }
    var all: [Event] { events.withLock { $0 } }
}
