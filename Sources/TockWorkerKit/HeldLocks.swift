import TockStore

/// The delivery locks a worker holds, per shard, from `begin` until each of their deliveries is
/// finished (a batch may be finished in parts): their leases are renewed until then, so a slow
/// broker never lets another worker publish the same messages.
struct HeldLocks: Sendable {
    /// Per shard, per lock: deliveries not finished yet.
    private var byShard: [Int: [String: Int]] = [:]

    mutating func hold(_ deliveries: [LockedDelivery]) {
        for delivery in deliveries { byShard[delivery.shard, default: [:]][delivery.lock, default: 0] += 1 }
    }

    mutating func release(_ deliveries: [LockedDelivery]) {
        for delivery in deliveries {
            guard let left = byShard[delivery.shard]?[delivery.lock] else { continue }
            byShard[delivery.shard]![delivery.lock] = left > 1 ? left - 1 : nil
            if byShard[delivery.shard]!.isEmpty { byShard.removeValue(forKey: delivery.shard) }
        }
    }

    /// The locks to renew, per shard.
    var renewal: [Int: [String]] { byShard.mapValues { $0.keys.sorted() } }

    var isEmpty: Bool { byShard.isEmpty }
}
