import Logging
import TockCore
import TockKafka

/// Makes sure the cold topics exist with the partitions the rings need (docs/tiered-storage.md):
/// creates them when `kafka.createTopics` is on, with a retention that covers `limits.maxHorizon`
/// (SPEC "Tiered storage"). A ring's size is fixed for the life of its topic (it decides which
/// partition holds a slot): an existing topic's count is kept when it is at least what the
/// configuration needs (say, after `limits.maxHorizon` was shortened), and a worker refuses to
/// start when it is smaller, or the hours topic's is not a multiple of `store.shards`. With
/// `store.hotHorizon` 0 no message goes cold, but cold topics that exist are still read: what is
/// cold already is moved.
struct ColdTopicsSetup {
    let configuration: TockConfiguration
    let topics: ColdTopics
    let logger: Logger

    /// `limits.maxHorizon` plus 3 days: a record is read at the latest a grace after its due time.
    var retentionMillis: Int64 { configuration.limits.maxHorizonMillis + 3 * 86_400_000 }

    /// The cold tier with the ring sizes of its topics; nil when there is none (`store.hotHorizon`
    /// 0 and no cold topics).
    func prepare() async throws -> ColdTopics? {
        let admin = try KafkaAdmin(brokers: configuration.kafka.brokers, properties: configuration.kafka.properties, logger: logger)
        do {
            let prepared = try await prepare(admin)
            await admin.close()
            return prepared
        } catch {
            await admin.close()
            throw error
        }
    }

    private func prepare(_ admin: KafkaAdmin) async throws -> ColdTopics? {
        let layout = topics.layout
        if !layout.isEnabled {
            guard let days = try await admin.partitionCount(topic: topics.days), let hours = try await admin.partitionCount(topic: topics.hours),
                hours % layout.shards == 0
            else { return nil }
            logger.info("store.hotHorizon is 0: no message goes cold; what is cold already is still moved")
            return topics.sized(dayPartitions: days, hourPartitions: hours)
        }
        if configuration.kafka.createTopics {
            let configs = [
                topics.days: ["retention.ms": String(retentionMillis), "segment.ms": String(layout.daySlotMillis)],
                topics.hours: ["retention.ms": String(retentionMillis), "segment.ms": String(layout.hourSlotMillis)],
            ]
            try await admin.createTopics(
                topics.partitionCounts.map { ($0.name, $0.partitions, configuration.kafka.topicReplicationFactor) }, configs: configs,
                timeout: .seconds(30))
        }
        let fixedBy = "(store.shards, store.coldHourSlot, store.coldDaySlot, store.hotHorizon and limits.maxHorizon decide it)"
        guard let days = try await admin.partitionCount(topic: topics.days), let hours = try await admin.partitionCount(topic: topics.hours) else {
            throw ColdTopicsError(
                topic: "\(topics.days), \(topics.hours)",
                message: "must exist: create them with \(layout.dayRing) and \(layout.hourPartitions) partitions, or set kafka.createTopics")
        }
        guard days >= layout.neededDayRing else {
            throw ColdTopicsError(
                topic: topics.days, message: "has \(days) partitions and this configuration needs \(layout.neededDayRing) \(fixedBy)")
        }
        guard hours % layout.shards == 0, hours / layout.shards >= layout.neededHourRing else {
            throw ColdTopicsError(
                topic: topics.hours,
                message: "has \(hours) partitions and this configuration needs \(layout.neededHourRing) per shard, \(layout.shards) shards \(fixedBy)"
            )
        }
        let sized = topics.sized(dayPartitions: days, hourPartitions: hours)
        if sized.layout != layout { logger.info("cold rings sized by their topics", metadata: ["days": "\(days)", "hours": "\(hours)"]) }
        return sized
    }
}

struct ColdTopicsError: Error, CustomStringConvertible {
    var topic: String
    var message: String
    var description: String { "cold topic \(topic) \(message)" }
}
