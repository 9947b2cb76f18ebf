import Testing
import TockCore
import TockStore

@Suite("The cold index's buckets (linear hashing): every entry stays findable through splits and merges, and no bucket outgrows a packed hash")
struct ColdIndexBucketsTests {
    /// A shard's index in memory: bucket -> fingerprints, kept as the store's calls would.
    struct Index {
        var buckets = ColdIndexBuckets()
        var entries: [Int: Set<UInt64>] = [0: []]

        mutating func insert(_ fingerprint: UInt64, total: Int) {
            entries[buckets.bucket(of: fingerprint), default: []].insert(fingerprint)
            settle(total)
        }

        mutating func remove(_ fingerprint: UInt64, total: Int) {
            entries[buckets.bucket(of: fingerprint)]?.remove(fingerprint)
            settle(total)
        }

        private mutating func settle(_ total: Int) {
            guard let change = buckets.change(forEntries: total) else { return }
            let moving: Set<UInt64>
            switch change {
            case .split(let from, _):
                moving = entries[from, default: []]
                entries[from] = []
            case .merge(let from, _):
                moving = entries.removeValue(forKey: from) ?? []
            }
            buckets.apply(change)
            for fingerprint in moving { entries[buckets.bucket(of: fingerprint), default: []].insert(fingerprint) }
            if case .split(let from, let to) = change {
                #expect(Set((entries[from] ?? []).map { buckets.bucket(of: $0) }).isSubset(of: [from]))
                #expect(Set((entries[to] ?? []).map { buckets.bucket(of: $0) }).isSubset(of: [to]))
            }
        }
    }

    @Test("the address: low bits of the level, one bit more below the split pointer; always one of the buckets")
    func address() {
        let buckets = ColdIndexBuckets(level: 2, split: 1)
        #expect(buckets.count == 5)
        #expect(buckets.bucket(of: 0b1000) == 0 && buckets.bucket(of: 0b1100) == 4)
        #expect(buckets.bucket(of: 0b0101) == 1 && buckets.bucket(of: 0b0111) == 3)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<10_000 { #expect(buckets.bucket(of: random.next()) < buckets.count) }
    }

    @Test("200,000 fingerprints in, then all out: each is in its bucket throughout, loads stay packed, the buckets shrink back to one")
    func growAndShrink() {
        var index = Index()
        var random = SplitMix64(seed: 26)
        let fingerprints = (0..<200_000).map { _ in random.next() }
        for (i, fingerprint) in fingerprints.enumerated() { index.insert(fingerprint, total: i + 1) }
        let loads = index.entries.values.map(\.count)
        #expect(index.buckets.count == index.entries.count)
        #expect(Double(fingerprints.count) / Double(index.buckets.count) <= 40)
        #expect(loads.max()! <= 128, "the largest bucket holds \(loads.max()!)")
        for fingerprint in fingerprints.prefix(1_000) { #expect(index.entries[index.buckets.bucket(of: fingerprint)]?.contains(fingerprint) == true) }
        for (i, fingerprint) in fingerprints.enumerated() {
            #expect(index.entries[index.buckets.bucket(of: fingerprint)]?.contains(fingerprint) == true)
            index.remove(fingerprint, total: fingerprints.count - i - 1)
        }
        #expect(index.buckets.count == 1 && index.entries.values.allSatisfy(\.isEmpty))
    }
}
