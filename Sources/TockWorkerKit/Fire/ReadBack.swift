import TockCore
import TockKafka
import TockStore

/// Which deliveries are looked for in their output partitions before they are published, and
/// from when (SPEC guarantee 3). A delivery with an earlier attempt may already be in Kafka: its
/// worker died or stalled after the broker took the record and before the outcome was recorded,
/// or a failed attempt was written all the same. A first attempt is never looked for.
struct ReadBack: Equatable {
    /// Per partition, the earliest record timestamp (epoch ms) an earlier attempt can carry.
    private(set) var from: [KafkaTopicPartition: Int64] = [:]
    /// The `tock-id`s looked for.
    private(set) var ids: Set<String> = []

    /// - Parameters:
    ///   - partitions: each delivery's output partition, by id; one without is not looked for.
    ///   - skewMillis: how far behind this worker's clock another worker's may be. An earlier
    ///     attempt was stamped when it was published, never before the message was due or stored.
    init(_ deliveries: [LockedDelivery], partitions: [String: Int32], skewMillis: Int64) {
        for delivery in deliveries where Self.isLookedFor(delivery) {
            guard let partition = partitions[delivery.message.id] else { continue }
            let key = KafkaTopicPartition(topic: delivery.message.topic, partition: partition)
            let earliest = max(0, max(delivery.message.dueMillis, delivery.message.storedMillis) - skewMillis)
            from[key] = min(from[key] ?? earliest, earliest)
            ids.insert(delivery.message.id)
        }
    }

    static func isLookedFor(_ delivery: LockedDelivery) -> Bool { delivery.attempt > 1 }

    /// What the read-back decides: a delivery looked for and found is delivered (it is not
    /// published again); one looked for while the read-back failed takes that failure (it is
    /// retried); every other one is published.
    func resolve(
        _ deliveries: [LockedDelivery], found: Set<String>, failure: DeliveryOutcome?
    ) -> (publish: [LockedDelivery], settled: [(delivery: LockedDelivery, outcome: DeliveryOutcome)]) {
        var publish: [LockedDelivery] = []
        var settled: [(delivery: LockedDelivery, outcome: DeliveryOutcome)] = []
        for delivery in deliveries {
            if !ids.contains(delivery.message.id) {
                publish.append(delivery)
            } else if found.contains(delivery.message.id) {
                settled.append((delivery, .delivered))
            } else if let failure {
                settled.append((delivery, failure))
            } else {
                publish.append(delivery)
            }
        }
        return (publish, settled)
    }
}
