import Logging
import Synchronization
import Testing

@testable import TockKafka

/// A swift-log handler that keeps what it is given, to check what reaches the logger.
struct KafkaCapturingLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    final class Store: Sendable {
        private let entries = Mutex<[Entry]>([])
        func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
        var all: [Entry] { entries.withLock { $0 } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append(Entry(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }

    static func logger(level: Logger.Level) -> (Logger, Store) {
        let store = Store()
        var logger = Logger(label: "test.kafka.capture") { _ in KafkaCapturingLogHandler(store: store) }
        logger.logLevel = level
        return (logger, store)
    }
}

@Suite struct KafkaLoggingTests {
    @Test func librdkafkaLogsReachSwiftLog() async throws {
        let (logger, store) = KafkaCapturingLogHandler.logger(level: .debug)
        let producer = try KafkaProducer(brokers: KafkaTestSupport.brokers, properties: ["debug": "broker"], logger: logger)
        _ = try await producer.send(KafkaProducerRecord(topic: TestStack.unique("kafka-logs"), value: [1]))
        await producer.shutdown()
        let entries = store.all
        #expect(entries.contains { $0.level == .debug && $0.metadata["kafka.facility"] != nil })
    }

    @Test func unreachableBrokerIsLoggedAsError() async throws {
        let (logger, store) = KafkaCapturingLogHandler.logger(level: .warning)
        let producer = try KafkaProducer(brokers: "127.0.0.1:1", logger: logger)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        while !store.all.contains(where: { $0.level >= .warning }) && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(store.all.contains { $0.level >= .warning && $0.message.contains("127.0.0.1:1") })
        await producer.shutdown(timeout: .milliseconds(100))
    }

    @Test func fatalErrorFailsSendsAndIsLoggedAsCritical() async throws {
        let (logger, store) = KafkaCapturingLogHandler.logger(level: .warning)
        let producer = try KafkaProducer(brokers: KafkaTestSupport.brokers, logger: logger)
        let topic = TestStack.unique("kafka-fatal")
        _ = try await producer.send(KafkaProducerRecord(topic: topic, value: [1]))
        try producer.triggerFatalErrorForTesting(.outOfOrderSequenceNumber, reason: "fabricated by test")

        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(5))
        var thrown: KafkaError?
        while thrown == nil && clock.now < deadline {
            do {
                _ = try await producer.send(KafkaProducerRecord(topic: topic, value: [2]))
                try await Task.sleep(for: .milliseconds(20))
            } catch let error as KafkaError {
                thrown = error
            }
        }
        let error = try #require(thrown)
        #expect(error.isFatal, "\(error)")
        #expect(!error.isRetriable)
        #expect(error.code == .outOfOrderSequenceNumber || error.code == .fatal, "\(error)")
        while !store.all.contains(where: { $0.level == .critical }) && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.all.contains { $0.level == .critical && $0.message.contains("fabricated by test") })
        await producer.shutdown(timeout: .seconds(1))
    }
}
