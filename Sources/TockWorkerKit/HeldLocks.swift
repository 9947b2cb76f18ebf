import TockStore

/// The delivery locks a worker holds, per shard, from `begin` until `finish`: their leases are
/// renewed until then, so a slow broker never lets another worker publish the same messages.
struct HeldLocks: Sendable {
    private var byShard: [Int: Set<String>] = [:]

    mutating func hold(_ deliveries: [LockedDelivery]) {
        for delivery in deliveries { byShard[delivery.shard, default: []].insert(delivery.lock) }
    }

    mutating func release(_ deliveries: [LockedDelivery]) {
        for delivery in deliveries {
            byShard[delivery.shard]?.remove(delivery.lock)
            if byShard[delivery.shard]?.isEmpty == true { byShard.removeValue(forKey: delivery.shard) }
        }
    }

    /// The locks to renew, per shard.
    var renewal: [Int: [String]] { byShard.mapValues { $0.sorted() } }

    var isEmpty: Bool { byShard.isEmpty }
}
