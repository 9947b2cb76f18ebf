import Testing

@testable import TockCore

@Suite("Shard assignment")
struct ShardAssignmentTests {
    func counts(_ assignment: [Int: String]) -> [String: Int] {
        assignment.values.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    func moved(_ before: [Int: String], _ after: [Int: String]) -> Int {
        after.filter { before[$0.key] != $0.value }.count
    }

    @Test("every shard is assigned, each worker gets ⌊S/W⌋ or ⌈S/W⌉", arguments: [(64, 1), (64, 3), (64, 5), (64, 64), (64, 70), (7, 3)])
    func balanced(shards: Int, workers: Int) {
        let live = Set((0..<workers).map { "w\($0)" })
        let assignment = ShardAssignment.rebalance(shardCount: shards, current: [:], live: live)
        #expect(assignment.count == shards)
        #expect(Set(assignment.values).isSubset(of: live))
        let perWorker = live.map { counts(assignment)[$0, default: 0] }
        #expect(perWorker.min()! >= shards / workers && perWorker.max()! <= (shards + workers - 1) / workers)
    }

    @Test("a worker that leaves moves only its own shards")
    func leaveIsSticky() {
        let live: Set = ["a", "b", "c", "d"]
        let before = ShardAssignment.rebalance(shardCount: 64, current: [:], live: live)
        let after = ShardAssignment.rebalance(shardCount: 64, current: before, live: live.subtracting(["c"]))
        #expect(moved(before, after) == 16)
        #expect(after.filter { before[$0.key] == "c" }.allSatisfy { $0.value != "c" })
        #expect(Set(counts(after).values) == [21, 22])
    }

    @Test("a worker that joins takes only its fair share, from the others")
    func joinIsSticky() {
        let before = ShardAssignment.rebalance(shardCount: 64, current: [:], live: ["a", "b", "c", "d"])
        let after = ShardAssignment.rebalance(shardCount: 64, current: before, live: ["a", "b", "c", "d", "e"])
        #expect(moved(before, after) == 12)
        #expect(counts(after)["e"] == 12)
        #expect(Set(counts(after).values).isSubset(of: [12, 13]))
    }

    @Test("an unchanged set of workers moves nothing; no live worker assigns nothing")
    func stable() {
        let live: Set = ["a", "b", "c"]
        let first = ShardAssignment.rebalance(shardCount: 64, current: [:], live: live)
        #expect(ShardAssignment.rebalance(shardCount: 64, current: first, live: live) == first)
        #expect(ShardAssignment.rebalance(shardCount: 64, current: first, live: []).isEmpty)
    }
}
