import TockCore

/// One cold partition a worker reads, and what it does with its records: an hour partition's
/// are moved into the hot store; a day partition's are copied into their hour partitions.
struct ColdRead: Sendable, Hashable {
    enum Kind: Sendable, Hashable { case move, copy }

    var topic: String
    var partition: Int32
    var kind: Kind
    /// The shard whose owner reads it, and under whose keys its read position is kept: an hour
    /// partition's own shard; for a day partition, `partition mod shards`, the same for every turn
    /// of its ring.
    var shard: Int

    /// Its read position's field: "topic/partition".
    var field: String { "\(topic)/\(partition)" }
}

/// Which cold partitions the owner of `shards` reads at `nowMillis`: per owned shard, the hour
/// partitions of the hour slots whose move window is open, and the day partitions of the open day
/// slots whose position that shard keeps. Besides, `behind` (per shard, hour slots whose window
/// has closed and whose index still counts messages: the mover fell behind, or was not running)
/// keeps those slots' hour partitions read, and their days' partitions, until they are empty: a
/// late slot makes its messages late, never lost. Pure, so `ColdDecisionsTests` checks it with a
/// manual clock.
enum ColdReadPlan {
    static func reads(topics: ColdTopics, ownedShards: Set<Int>, nowMillis: Int64, behind: [Int: [Int64: Int]] = [:]) -> Set<ColdRead> {
        let layout = topics.layout
        guard !ownedShards.isEmpty else { return [] }
        var reads: Set<ColdRead> = []
        for slot in layout.openHourSlots(nowMillis: nowMillis) {
            for shard in ownedShards {
                reads.insert(ColdRead(topic: topics.hours, partition: layout.hourPartition(slot: slot, shard: shard), kind: .move, shard: shard))
            }
        }
        for slot in layout.openDaySlots(nowMillis: nowMillis) {
            let partition = layout.dayPartition(slot: slot)
            let shard = Int(partition) % layout.shards
            if ownedShards.contains(shard) { reads.insert(ColdRead(topic: topics.days, partition: partition, kind: .copy, shard: shard)) }
        }
        for (shard, slots) in behind {
            for (slot, count) in slots where count > 0 && layout.moveWindow(hourSlot: slot).upperBound <= nowMillis {
                if ownedShards.contains(shard) {
                    reads.insert(ColdRead(topic: topics.hours, partition: layout.hourPartition(slot: slot, shard: shard), kind: .move, shard: shard))
                }
                let day = ColdLayout.slot(slot * layout.hourSlotMillis, width: layout.daySlotMillis)
                let partition = layout.dayPartition(slot: day)
                let keeper = Int(partition) % layout.shards
                if ownedShards.contains(keeper) { reads.insert(ColdRead(topic: topics.days, partition: partition, kind: .copy, shard: keeper)) }
            }
        }
        return reads
    }
}
