import Synchronization

/// Partition counts of output topics as the cluster reported them, for routing keyed records in a
/// `KafkaProducerPool`. A look-up never waits: a topic not known yet, or known too long ago, is
/// refreshed in the background, and the caller routes without a partition meanwhile. An unknown
/// topic is asked about again after a second, since the first produce to it may create it.
final class KafkaPartitionCounts: Sendable {
    private struct Entry {
        var count: Int32?
        var fetchedAt: ContinuousClock.Instant?
        var refreshing = false
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let maxAge: Duration
    private let fetch: @Sendable (String) async throws -> Int?

    init(maxAge: Duration = .seconds(30), fetch: @escaping @Sendable (String) async throws -> Int?) {
        self.maxAge = maxAge
        self.fetch = fetch
    }

    /// The known partition count of `topic`, or nil.
    func count(of topic: String) -> Int32? {
        let now = ContinuousClock.now
        let (count, refresh) = entries.withLock { entries -> (Int32?, Bool) in
            var entry = entries[topic] ?? Entry()
            let stale = entry.fetchedAt.map { now - $0 > (entry.count == nil ? .seconds(1) : maxAge) } ?? true
            let refresh = stale && !entry.refreshing
            if refresh { entry.refreshing = true }
            entries[topic] = entry
            return (entry.count, refresh)
        }
        if refresh {
            Task { [self] in
                // A failed look-up keeps the old count and is tried again after maxAge.
                let fetched = try? await fetch(topic)
                entries.withLock { entries in
                    if let fetched { entries[topic]?.count = Int32(fetched) }
                    entries[topic]?.fetchedAt = .now
                    entries[topic]?.refreshing = false
                }
            }
        }
        return count
    }

    /// The partition count of `topic`, asked of the broker first when it is not known yet; nil
    /// if the broker does not know the topic or cannot be reached.
    func fetchedCount(of topic: String) async -> Int32? {
        // Marked as refreshing meanwhile, so a look-up in between starts no second fetch.
        let known = entries.withLock { entries -> Int32? in
            if let count = entries[topic]?.count { return count }
            entries[topic, default: Entry()].refreshing = true
            return nil
        }
        // A known count goes through `count(of:)`, which refreshes it once it is stale.
        if let known { return count(of: topic) ?? known }
        let fetched = try? await fetch(topic)
        entries.withLock { entries in
            if let fetched { entries[topic]?.count = Int32(fetched) }
            entries[topic]?.fetchedAt = .now
            entries[topic]?.refreshing = false
        }
        return fetched.map { Int32($0) }
    }
}
