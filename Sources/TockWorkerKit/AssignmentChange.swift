import TockStore

/// What a heartbeat's assignment changes for this worker: the shards it no longer owns at the
/// epoch it held them (unassigned, or assigned again at another epoch), and those it is to take
/// at their new epoch. A shard moved to a new epoch is in both: dropped, then taken again,
/// so that what was claimed under the old epoch comes back into the wheel.
struct AssignmentChange {
    let lost: Set<Int>
    /// In shard order: the worker releases and claims them one at a time.
    let gained: [(shard: Int, owner: ShardOwnership)]

    init(owned current: [Int: ShardOwnership], assigned assignment: [Int: Int64], worker: String) {
        lost = Set(current.keys.filter { assignment[$0] != current[$0]!.epoch })
        gained = assignment.filter { current[$0.key]?.epoch != $0.value }.sorted { $0.key < $1.key }.map {
            (shard: $0.key, owner: ShardOwnership(worker: worker, epoch: $0.value))
        }
    }
}
