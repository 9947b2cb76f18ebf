import TockCore
import TockKafka

/// The cold tier as a worker writes and reads it: the rings (`ColdLayout`) and the names of their
/// topics, `<store.coldTopicPrefix>.days` and `.hours`.
public struct ColdTopics: Sendable {
    let layout: ColdLayout
    let days: String
    let hours: String

    init(layout: ColdLayout, prefix: String) {
        self.init(layout: layout, days: "\(prefix).days", hours: "\(prefix).hours")
    }

    init(layout: ColdLayout, days: String, hours: String) {
        self.layout = layout
        self.days = days
        self.hours = hours
    }

    public init(configuration: TockConfiguration) {
        self.init(layout: ColdLayout(configuration: configuration), prefix: configuration.store.coldTopicPrefix)
    }

    /// The same topics with the ring sizes of their partition counts (`hourPartitions` a multiple of
    /// the shards): a ring's size is fixed for the life of its topic.
    func sized(dayPartitions: Int, hourPartitions: Int) -> ColdTopics {
        var layout = self.layout
        layout.existingDayRing = dayPartitions
        layout.existingHourRing = hourPartitions / layout.shards
        return ColdTopics(layout: layout, days: days, hours: hours)
    }

    /// Where `record` goes when it is written at `nowMillis`, or nil when its message is hot.
    func producerRecord(_ record: ColdRecord, shard: Int, nowMillis: Int64) -> KafkaProducerRecord? {
        guard layout.isEnabled else { return nil }
        switch layout.tier(dueMillis: record.dueMillis, nowMillis: nowMillis, shard: shard) {
        case .hot: return nil
        case .hours(_, let partition): return Self.producerRecord(record, topic: hours, partition: partition)
        case .days(_, let partition): return Self.producerRecord(record, topic: days, partition: partition)
        }
    }

    /// A day record's copy into its hour partition.
    func hourRecord(_ record: ColdRecord, shard: Int) -> KafkaProducerRecord {
        Self.producerRecord(record, topic: hours, partition: layout.hourPartition(dueMillis: record.dueMillis, shard: shard))
    }

    static func producerRecord(_ record: ColdRecord, topic: String, partition: Int32) -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic, partition: partition, key: Array(record.id.utf8), value: record.blob,
            headers: [KafkaHeader(key: ColdRecord.header, value: record.headerValue)])
    }

    /// A record read from a cold topic, or nil when it is not one.
    static func coldRecord(_ message: KafkaConsumerMessage) -> ColdRecord? {
        ColdRecord(key: message.key, value: message.value, headerValue: message.headers.first { $0.key == ColdRecord.header }?.value ?? nil)
    }

    /// The topics with their partition counts, for creating them.
    var partitionCounts: [(name: String, partitions: Int)] { [(days, layout.dayRing), (hours, layout.hourPartitions)] }
}
