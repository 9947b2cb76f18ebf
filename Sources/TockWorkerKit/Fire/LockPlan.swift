import TockCore
import TockStore

/// How a batch the wheel fired is locked: split by shard, leaving out shards this worker no
/// longer owns; then, from `begin`'s replies, what is locked, what is no longer claimed (skipped),
/// which shards were fenced, and what goes back into the wheel because Redis failed.
struct LockPlan {
    typealias Fired = (id: String, fireMillis: Int64)

    /// The fired entries of owned shards, by shard.
    private(set) var byShard: [Int: [Fired]] = [:]
    /// Entries of shards not owned (any more): their new owner fires them.
    private(set) var notOwned = 0

    init(_ batch: [(id: String, dueMillis: Int64)], owners: [Int: ShardOwnership], shardMap: ShardMap) {
        for entry in batch {
            let shard = shardMap.shard(of: entry.id)
            guard owners[shard] != nil else {
                notOwned += 1
                continue
            }
            byShard[shard, default: []].append((entry.id, entry.dueMillis))
        }
    }

    var isEmpty: Bool { byShard.isEmpty }

    /// What `begin` answered, sorted out.
    struct Replies {
        var locked: [LockedDelivery] = []
        /// Requested but not locked: cancelled, rescheduled or moved to another owner meanwhile.
        var skipped = 0
        var fenced: [(shard: Int, detail: String)] = []
        var failed: [(shard: Int, error: StoreError)] = []
        /// Still claimed (or locked, if the failed call did run: then the lease runs out and the
        /// claim loop brings them back), so firing them again is safe.
        var retry: [Fired] = []
    }

    func sort(_ results: [Int: Result<[LockedDelivery], StoreError>]) -> Replies {
        var replies = Replies()
        for (shard, result) in results.sorted(by: { $0.key < $1.key }) {
            switch result {
            case .success(let deliveries):
                replies.locked += deliveries
                replies.skipped += (byShard[shard]?.count ?? 0) - deliveries.count
            case .failure(.fenced(_, let detail)):
                replies.fenced.append((shard, detail))
            case .failure(let error):
                replies.failed.append((shard, error))
                replies.retry += byShard[shard] ?? []
            }
        }
        return replies
    }

    /// Every entry, for when the call as a whole failed.
    var all: [Fired] { byShard.keys.sorted().flatMap { byShard[$0]! } }

}
