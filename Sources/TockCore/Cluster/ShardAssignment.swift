/// Balanced, sticky shard assignment for the monitor: every live worker gets ⌊S/W⌋ or ⌈S/W⌉
/// shards, and a change of workers moves as few shards as possible (only those of workers that
/// left, plus what the balance needs when one joins).
public enum ShardAssignment {
    /// - Parameters:
    ///   - current: shard → owner now (owners may have died; shards may be unowned).
    ///   - live: the live workers.
    /// - Returns: shard → owner for every shard, or empty when no worker is live.
    public static func rebalance(shardCount: Int, current: [Int: String], live: Set<String>) -> [Int: String] {
        guard !live.isEmpty, shardCount > 0 else { return [:] }
        var held: [String: [Int]] = [:]
        for worker in live { held[worker] = [] }
        for shard in 0..<shardCount {
            if let owner = current[shard], held[owner] != nil { held[owner]!.append(shard) }
        }
        // The ⌈S/W⌉ slots go to the workers holding most already: that keeps the most in place.
        let base = shardCount / live.count
        let extra = shardCount % live.count
        let byLoad = live.sorted { (held[$0]!.count, $1) > (held[$1]!.count, $0) }
        var target: [String: Int] = [:]
        for (index, worker) in byLoad.enumerated() { target[worker] = base + (index < extra ? 1 : 0) }

        var assignment: [Int: String] = [:]
        var free: [Int] = []
        for worker in byLoad {
            let shards = held[worker]!
            let keep = target[worker]!
            for shard in shards.prefix(keep) { assignment[shard] = worker }
            free.append(contentsOf: shards.dropFirst(keep))
        }
        for shard in 0..<shardCount where assignment[shard] == nil && !free.contains(shard) {
            free.append(shard)
        }
        free.sort()
        var cursor = 0
        for worker in byLoad {
            var count = held[worker]!.prefix(target[worker]!).count
            while count < target[worker]! && cursor < free.count {
                assignment[free[cursor]] = worker
                cursor += 1
                count += 1
            }
        }
        return assignment
    }
}
