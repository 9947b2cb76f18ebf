import Testing
import TockCore

@testable import TockStore

@Suite("Known tombstone expiries")
struct KnownExpiriesTests {
    @Test("a set is known once noted, in its window only")
    func knownPerWindow() {
        var known = KnownExpiries(shardCount: 16)
        known.enter(window: 7)
        let set = TombstoneSet(shard: 15, bucket: Tombstone.buckets - 1)
        #expect(!known.contains(set))
        known.insert(set)
        #expect(known.contains(set))
        #expect(!known.contains(TombstoneSet(shard: 15, bucket: Tombstone.buckets - 2)))
        #expect(!known.contains(TombstoneSet(shard: 14, bucket: Tombstone.buckets - 1)))
        known.enter(window: 7)
        #expect(known.contains(set))
        known.enter(window: 8)
        #expect(!known.contains(set))
    }

    @Test("sets outside the store's shards are never known")
    func outsideShards() {
        var known = KnownExpiries(shardCount: 2)
        known.enter(window: 1)
        let outside = TombstoneSet(shard: 2, bucket: 0)
        known.insert(outside)
        #expect(!known.contains(outside))
        #expect(!known.contains(TombstoneSet(shard: 0, bucket: -1)))
    }
}
