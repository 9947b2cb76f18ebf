import Foundation
import Logging
import Synchronization
import Testing
import TockKafka

/// Shared settings and helpers of the Kafka integration tests.
enum KafkaTestSupport {
    static var brokers: String { TestStack.shared.kafkaBrokers }

    static func logger(_ label: String, level: Logger.Level = .notice) -> Logger {
        var logger = Logger(label: "test.kafka.\(label)")
        logger.logLevel = level
        return logger
    }

    /// The broker holds a JoinGroup for about half the session timeout, so a short one keeps
    /// group joins near 3 s.
    static let consumerProperties: [String: String] = [
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "500",
    ]

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
