import Testing

@testable import TockMonitorKit

@Suite("Cancel by tag: the job's state")
struct TagCancelJobTests {
    @Test("walks the shards lowest first, each to its cursor's end; done when none is left; counts what it wrote")
    func walk() {
        var job = TagCancelJob(job: "j", tag: "t", shardCount: 3, nowMillis: 1, requestedBy: "ops")
        #expect(job.state == .running && job.next! == (0, "0"))
        job.advance(shard: 0, to: "17", cancelled: 1_000, nowMillis: 2)
        #expect(job.next! == (0, "17") && job.cancelled == 1_000)
        job.advance(shard: 0, to: "0", cancelled: 5, nowMillis: 3)
        #expect(job.next! == (1, "0"))
        job.advance(shard: 1, to: "0", cancelled: 0, nowMillis: 4)
        job.advance(shard: 2, to: "0", cancelled: 2, nowMillis: 5)
        #expect(job.state == .done && job.next == nil && job.cancelled == 1_007 && job.updatedMillis == 5)
        #expect(job.report == TagCancelJob.Report(job: "j", tag: "t", state: "done", cancelled: 1_007, shardsLeft: 0))
    }

    @Test("survives a round trip through its JSON, as a monitor that takes over reads it")
    func roundTrip() {
        var job = TagCancelJob(job: "j", tag: "user-42", shardCount: 16, nowMillis: 1, requestedBy: "ops")
        job.advance(shard: 0, to: "99", cancelled: 10, nowMillis: 2)
        #expect(TagCancelJob.decode(job.encoded) == job)
        #expect(TagCancelJob.decode("{") == nil)
    }
}
