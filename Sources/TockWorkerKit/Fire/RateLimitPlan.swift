import TockCore
import TockStore

/// The records of rate-limited topics (`output.rateLimits`) in a slice, by topic, each topic's in
/// publish order: one slot call per topic. `assign` turns a topic's reserved slots into publish
/// times and records to queue again.
struct RateLimitPlan {
    struct Topic {
        var limit: RateLimits.Limit
        /// In publish order (`PublishSlices.publishMillis`).
        var deliveries: [LockedDelivery]
        var dueTimes: [Int64] { deliveries.map(PublishSlices.publishMillis) }
    }

    /// By topic name; unlimited topics are not in it.
    let topics: [String: Topic]

    init(_ deliveries: [LockedDelivery], limits: RateLimits) {
        var topics: [String: Topic] = [:]
        if !limits.isEmpty {
            for delivery in deliveries {
                guard let limit = limits.limit(for: delivery.message.topic) else { continue }
                topics[delivery.message.topic, default: Topic(limit: limit, deliveries: [])].deliveries.append(delivery)
            }
        }
        self.topics = topics.mapValues { topic in
            var topic = topic
            topic.deliveries.sort { PublishSlices.publishMillis($0) < PublishSlices.publishMillis($1) }
            return topic
        }
    }

    /// What a topic's slots mean for its deliveries.
    struct Assignment: Equatable {
        /// Publish no sooner than this, by entry.
        var slots: [String: Int64] = [:]
        /// No slot within the horizon: queue again for this time, by entry.
        var later: [String: Int64] = [:]
    }

    static func assign(_ reserved: RateSlots, to topic: Topic) -> Assignment {
        var assignment = Assignment()
        for (delivery, slot) in zip(topic.deliveries, reserved.slots) {
            switch slot {
            case .publish(let at): assignment.slots[delivery.entry] = at
            case .later(let at): assignment.later[delivery.entry] = at
            }
        }
        return assignment
    }
}
