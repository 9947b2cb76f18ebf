import Logging
import TockCore
import TockKafka

/// One record of `tock.dead`, as `GET /v1/dead` lists it (`summary`) and a requeue reads it.
public struct DeadLetter: Sendable, Equatable {
    public var summary: Summary
    public var key: [UInt8]?
    public var value: [UInt8]?
    /// Its headers but Tock's own (`tock-…`): what a requeue copies to the output again.
    public var copiedHeaders: [RecordHeader]

    public struct Summary: Codable, Sendable, Equatable {
        public var id: String
        /// The output topic it was meant for (`tock-topic`).
        public var topic: String
        public var error: String
        public var attempts: Int
        /// When it went dead (the record's timestamp, epoch ms).
        public var time: Int64
        public var partition: Int32
        public var offset: Int64
    }

    public var id: String { summary.id }
    public var topic: String { summary.topic }

    init?(_ message: KafkaConsumerMessage) {
        func header(_ name: String) -> String? {
            message.headers.last(where: { $0.key == name }).map { String(decoding: $0.value ?? [], as: UTF8.self) }
        }
        guard let id = header("tock-id"), let topic = header("tock-topic") else { return nil }
        summary = Summary(
            id: id, topic: topic, error: header("tock-error") ?? "", attempts: header("tock-attempt").flatMap { Int($0) } ?? 0,
            time: message.timestamp?.milliseconds ?? 0, partition: message.partition, offset: message.offset)
        key = message.key
        value = message.value
        copiedHeaders = message.headers.filter { !$0.key.hasPrefix("tock-") }.map { RecordHeader(key: $0.key, value: $0.value) }
    }
}

/// Reads `tock.dead` back, newest first, with a consumer of its own that joins no group and
/// commits nothing. One read at a time: each makes a consumer and asks every partition's
/// watermarks.
public actor DeadLetterReader {
    private let brokers: String
    private let topic: String
    private let properties: [String: String]
    private let logger: Logger

    public init(configuration: TockConfiguration, logger: Logger) {
        brokers = configuration.kafka.brokers
        topic = configuration.kafka.deadTopic
        properties = configuration.kafka.properties.merging(configuration.kafka.consumerProperties) { _, new in new }
        self.logger = logger
    }

    /// The newest `limit` dead letters across all partitions, newest first.
    public func newest(limit: Int, within: Duration = .seconds(10)) async throws -> [DeadLetter] {
        try await withConsumer { consumer, marks in
            let ranges = marks.mapValues { max($0.low, $0.high - Int64(limit))..<$0.high }
            let read = try await Self.read(ranges, topic: topic, with: consumer, within: within)
            return Array(read.sorted { ($0.summary.time, $0.summary.offset) > ($1.summary.time, $1.summary.offset) }.prefix(limit))
        }
    }

    /// The newest dead letter with `id`, looking back at most `scanLimit` records per partition.
    public func find(id: String, scanLimit: Int64 = 200_000, chunk: Int64 = 5_000, within: Duration = .seconds(20)) async throws -> DeadLetter? {
        try await withConsumer { consumer, marks in
            var found: DeadLetter?
            var ends = marks.mapValues(\.high)
            let deadline = ContinuousClock.now.advanced(by: within)
            while found == nil && ContinuousClock.now < deadline {
                var ranges: [Int32: Range<Int64>] = [:]
                for (partition, end) in ends {
                    let floor = max(marks[partition]!.low, marks[partition]!.high - scanLimit)
                    if end > floor { ranges[partition] = max(floor, end - chunk)..<end }
                }
                if ranges.isEmpty { break }
                let read = try await Self.read(ranges, topic: topic, with: consumer, within: deadline - ContinuousClock.now)
                found = read.filter { $0.id == id }.max { ($0.summary.time, $0.summary.offset) < ($1.summary.time, $1.summary.offset) }
                for (partition, range) in ranges { ends[partition] = range.lowerBound }
            }
            return found
        }
    }

    private func withConsumer<T: Sendable>(
        _ body: (KafkaConsumer, [Int32: (low: Int64, high: Int64)]) async throws -> T
    ) async throws -> T {
        var consumerProperties = properties
        consumerProperties["enable.auto.commit"] = "false"
        consumerProperties["auto.offset.reset"] = "earliest"
        let consumer = try KafkaConsumer(
            brokers: brokers, groupId: "tock-monitor-dead-reader", topics: [], properties: consumerProperties, logger: logger)
        do {
            var marks: [Int32: (low: Int64, high: Int64)] = [:]
            // No tock.dead yet: nothing went dead.
            let count = try await consumer.partitionCount(topic: topic) ?? 0
            for partition in 0..<Int32(count) { marks[partition] = try await consumer.watermarks(topic: topic, partition: partition) }
            let result = try await body(consumer, marks)
            await consumer.close()
            return result
        } catch {
            await consumer.close()
            throw error
        }
    }

    /// Reads each partition's `range` (offsets), all at once, until each is read or `within` passed.
    private static func read(_ ranges: [Int32: Range<Int64>], topic: String, with consumer: KafkaConsumer, within: Duration) async throws
        -> [DeadLetter]
    {
        let wanted = ranges.filter { !$0.value.isEmpty }
        guard !wanted.isEmpty else { return [] }
        try await consumer.assign(wanted.map { KafkaTopicPartitionOffset(topic: topic, partition: $0.key, offset: $0.value.lowerBound) })
        var open = Set(wanted.keys)
        var letters: [DeadLetter] = []
        let deadline = ContinuousClock.now.advanced(by: within)
        while !open.isEmpty && ContinuousClock.now < deadline {
            for message in try await consumer.poll(maxMessages: 1_000, timeout: .milliseconds(100)) {
                guard let range = wanted[message.partition], range.contains(message.offset) else { continue }
                if let letter = DeadLetter(message) { letters.append(letter) }
                if message.offset >= range.upperBound - 1 { open.remove(message.partition) }
            }
        }
        try await consumer.assign([])
        return letters
    }
}
