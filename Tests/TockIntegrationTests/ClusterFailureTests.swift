import Foundation
import Synchronization
import Testing
import TockCore
import TockKafka
import TockMonitorKit
import TockStore

/// SPEC.md's guarantees 3 and 4 with a real cluster: `tock-monitor` and `tock-worker` processes
/// (`cluster.mode: monitored`) killed, paused, scaled and cut off from Redis while messages are
/// due. Lateness is measured from each output record's CreateTime against its `tock-at`.
@Suite("Cluster failures", .serialized)
struct ClusterFailureTests {
    /// `cluster.heartbeatTimeout` and `delivery.leaseTimeout`: both at their 3 s default here.
    static let heartbeatTimeoutMillis: Int64 = 3_000
    /// What a shard move may take beyond the heartbeat timeout, as the test sees it: the monitor's
    /// tick, the heartbeat that brings the news and the test's own polling of /v1/cluster. Measured
    /// 3.0–3.5 s alone, up to 3.7 s with the whole suite beside it on 2 cores.
    static let moveSlackMillis: Int64 = 1_000

    // MARK: - 1. Worker killed

    @Test(
        "a worker SIGKILLed while its messages are due: its shards move within heartbeatTimeout, none lost, early or published twice (what it left locked is read back)"
    )
    func workerKilled() async throws {
        try await ClusterFixture.run("cl-kill", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            let (monitors, balanced) = try await c.startBalanced(["w-a", "w-b"], monitors: ["m1", "m2"])

            // 3000 messages due over 6 s, from 3 s ahead; all stored before anything is killed.
            let n = 3_000
            let (start, ids) = try await s.sendSpaced("k", count: n, storedIn: c.store) { 3_000 + Int64($0) * 2 }

            let victim = balanced.busiestWorker
            let survivor = victim == "w-a" ? "w-b" : "w-a"
            let victimShards = Set(balanced.shards(of: victim))
            try await sleep(until: start + 4_800)
            let lastHeartbeat = await c.leaderView()?.workers.first { $0.id == victim }?.lastHeartbeatMillis
            // Aim the kill at deliveries in flight (locked, not recorded yet), to exercise guarantee
            // 3's window; at most 500 ms on.
            var aimed = false
            while !aimed && WorkerScenario.now < start + 5_300 {
                aimed = try await !s.lockedIDs(c.store, worker: victim).isEmpty
            }
            let killedAt = WorkerScenario.now
            #expect(await c.worker(victim).signal(SIGKILL, waitUpTo: .seconds(5)) != nil)
            // Locked for delivery when it died: published or not, they are sent (again) after the lease.
            let inFlight = try await s.lockedIDs(c.store, worker: victim)
            let seenAtKill = out.on(s.outputTopic).count

            let failover = try await c.waitBalanced(live: [survivor], within: .seconds(10))
            let movedAfter = failover.takenAtMillis - killedAt
            #expect(failover.shards.allSatisfy { $0.owner == survivor })
            #expect(victimShards.allSatisfy { failover.shards[$0].epoch! > balanced.shards[$0].epoch! }, "moved shards get new epochs")

            let (summary, arrivals) = try await s.deliveredSummary(
                out, expected: Set(ids), store: c.store, within: .seconds(30), emptyWithin: .seconds(15))
            let ofVictim = DeliverySummary(
                arrivals.filter { victimShards.contains(c.store.shardMap.shard(of: $0.header("tock-id") ?? "")) },
                expected: []
            ) { $0.header("tock-id") }
            let ofSurvivor = DeliverySummary(
                arrivals.filter { !victimShards.contains(c.store.shardMap.shard(of: $0.header("tock-id") ?? "")) },
                expected: []
            ) { $0.header("tock-id") }
            let handoff = Failover(
                arrivals.filter { victimShards.contains(c.store.shardMap.shard(of: $0.header("tock-id") ?? "")) }, killedAt: killedAt)
            let duplicated = summary.duplicated
            let extraCopies = summary.extraCopies
            print(
                "[cluster-kill] N=\(n); killed \(victim) (shards \(victimShards.sorted())) at +\(killedAt - start) ms\(aimed ? " holding locks" : ""), "
                    + "its last heartbeat \(lastHeartbeat.map { "\(killedAt - $0) ms" } ?? "?") before; \(seenAtKill) delivered before the kill, "
                    + "\(inFlight.count) in flight \(inFlight.sorted().prefix(10)); /v1/cluster showed its shards on \(survivor) \(movedAfter) ms after the kill; "
                    + "FAILOVER (max lateness of its messages) \(ofVictim.maxLatenessMillis) ms, of \(survivor)'s \(ofSurvivor.maxLatenessMillis) ms; "
                    + "\(handoff); "
                    + "\(extraCopies) extra copies of \(duplicated.count) ids; \(summary)")
            summary.expectAllOnceExceptInFlight(inFlight)
            #expect(duplicated.isEmpty, "\(summary)")
            let dead = out.on(s.deadTopic).map {
                "\($0.header("tock-id") ?? "?"): \($0.header("tock-error") ?? "") \($0.header("tock-error-detail") ?? "")"
            }
            #expect(dead.isEmpty, "dead-lettered: \(dead.prefix(5))")
            // Guarantee 4: a dead worker's shards move within heartbeatTimeout (plus the monitor's
            // tick, the heartbeat that brings the news, and a claim): its messages fire at most
            // heartbeatTimeout + 1 s late, counted from the kill for those it was already late with.
            #expect(movedAfter <= Self.heartbeatTimeoutMillis + Self.moveSlackMillis, "shards moved \(movedAfter) ms after the kill")
            // What the dead worker held locked waits for its lease (delivery.leaseTimeout, 3 s, from
            // its last renewal), the new owner's claim and a read-back: measured 4.0–4.1 s alone, 5.1–6.3 s
            // with the whole suite running beside it on 2 cores.
            #expect(handoff.millis <= Self.heartbeatTimeoutMillis + 4_000, "\(handoff)")
            await c.expectCleanStop(workers: [survivor], monitors: monitors)
        }
    }

    // MARK: - 2. Zombie

    @Test("a worker paused past the heartbeat timeout (a zombie) delivers nothing from the shards it lost, notices, and goes on")
    func zombie() async throws {
        try await ClusterFixture.run("cl-zombie", collect: { s in [s.outputTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            let zombiePort = try TestSocket.freePort()
            let balanced = try await c.startBalanced(["w-a", "w-b"], env: ["w-a": ["TOCK_HTTP_PORT": "\(zombiePort)"]]).balanced
            let zombie = c.worker("w-a")

            // 2000 messages due over 10 s, from 2.5 s ahead, except 2 s around the pause: when the
            // zombie stops it has no delivery in flight (a delivery paused between the broker's
            // acknowledgement and recording it is guarantee 3's window, not this test's), while
            // its wheel holds everything of its shards due later. The window reaches 1 s past the
            // pause: the test's own sleep can wake a few hundred ms late under the full suite (a run
            // paused at +213 ms, on a lock taken 250 ms ahead of the first message after +400 ms).
            // It starts 1 s before: under the full suite a worker can still be recording
            // deliveries of 600 ms earlier (two runs paused with 87 and 91 of them in flight).
            let start = WorkerScenario.now
            let pauseAt = start + 4_000
            let quiet: ClosedRange<Int64> = (pauseAt - 1_000)...(pauseAt + 1_000)
            let dues: [Int64] = (0..<2_000).map { (i: Int) -> Int64 in start + 2_500 + Int64(i) * 5 }.filter { !quiet.contains($0) }
            let ids = dues.indices.map { "z-\($0)" }
            try await s.sendStored(ids.indices.map { s.request(id: ids[$0], at: dues[$0], partition: Int32($0 % 4)) }, store: c.store)

            let zombieShards = Set(balanced.shards(of: "w-a"))
            try await sleep(until: pauseAt)
            await zombie.signal(SIGSTOP)
            let pausedAt = WorkerScenario.now
            let inFlightAtPause = try await s.lockedIDs(c.store, worker: "w-a")
            let takenOver = try await c.waitBalanced(live: ["w-b"], within: .seconds(10))
            let movedAfter = takenOver.takenAtMillis - pausedAt
            // Paused 5 s in all: well past the heartbeat timeout, and its wheel's entries are overdue.
            try await sleep(until: pausedAt + 5_000)
            let logBefore = zombie.log.count
            await zombie.signal(SIGCONT)
            let resumedAt = WorkerScenario.now
            let rebalanced = try await c.waitBalanced(live: ["w-a", "w-b"], within: .seconds(10))
            let backAfter = rebalanced.takenAtMillis - resumedAt
            // Its log since the pause: it dropped its old shards (the heartbeat's empty assignment, or
            // fenced calls), then took its new ones.
            let zombieLog = String(zombie.log.dropFirst(logBefore))
            let sinceResume = OwnershipLog(zombieLog)

            // Everything scheduled so far is out: from here the zombie's delivery count grows only
            // by what follows.
            await out.waitDistinct(ids.count, on: s.outputTopic, within: .seconds(30)) { $0.header("tock-id") }
            try await waitUntil("the store is empty", within: .seconds(15)) { try await s.storedMessageCount(c.store) == 0 }
            let deliveredBefore = try await MetricsScrape.get(port: zombiePort).value(#"tock_fired_total{result="delivered"}"#) ?? 0

            // It goes on: messages scheduled now, about half of them on its new shards. (Its
            // consumer may be rejoining the group: a 5 s pause outlasts the 6 s session timeout
            // counted from its last group heartbeat, so storing them may take a few seconds.)
            let zombieNow = Set(rebalanced.shards(of: "w-a"))
            let lateIDs = (0..<40).map { "after-\($0)" }
            let lateOnZombie = lateIDs.filter { zombieNow.contains(c.store.shardMap.shard(of: $0)) }.count
            try await s.sendStored(
                lateIDs.indices.map { s.request(id: lateIDs[$0], at: WorkerScenario.now + 1_000, partition: Int32($0 % 4)) },
                store: c.store)
            await out.waitDistinct(ids.count + lateIDs.count, on: s.outputTopic, within: .seconds(30)) { $0.header("tock-id") }
            try await waitUntil("the store is empty", within: .seconds(15)) { try await s.storedMessageCount(c.store) == 0 }
            await out.settle(on: s.outputTopic)
            let deliveredAfter = try await MetricsScrape.get(port: zombiePort).value(#"tock_fired_total{result="delivered"}"#) ?? 0

            let summary = DeliverySummary(out.on(s.outputTopic), expected: Set(ids + lateIDs)) { $0.header("tock-id") }
            let fenced = zombieLog.components(separatedBy: "fenced: lost shard ownership").count - 1
            let changes = zombieLog.split(separator: "\n").filter { $0.contains("assignment changed") || $0.contains("fenced") }
            print(
                "[cluster-zombie] N=\(ids.count)+\(lateIDs.count); paused w-a (shards \(zombieShards.sorted())) at +\(pausedAt - start) ms with "
                    + "\(inFlightAtPause.count) in flight; its shards on w-b \(movedAfter) ms later; resumed after \(resumedAt - pausedAt) ms; "
                    + "live and balanced again \(backAfter) ms after (shards \(zombieNow.sorted())); after resuming it logged \(fenced) fenced shards and "
                    + "'assignment changed' \(zombieLog.components(separatedBy: "assignment changed").count - 1)x; it delivered "
                    + "\(Int(deliveredAfter - deliveredBefore)) of the \(lateOnZombie) late ones on its shards; \(summary)\n"
                    + "[cluster-zombie] its log after SIGCONT:\n  \(changes.prefix(12).joined(separator: "\n  "))")
            #expect(inFlightAtPause.isEmpty, "the pause landed on deliveries in flight: \(inFlightAtPause.sorted())")
            #expect(movedAfter <= Self.heartbeatTimeoutMillis + Self.moveSlackMillis)
            #expect(summary.duplicates.isEmpty, "\(summary)")
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            // It noticed: it dropped its old shards, and the monitor gave it shards again, at new epochs.
            #expect(zombieShards.isSubset(of: sinceResume.lost), "\(zombieLog.suffix(3_000))")
            #expect(Set(sinceResume.gained) == zombieNow, "\(zombieLog.suffix(3_000))")
            #expect(zombieNow.count == 4)
            #expect(zombieNow.allSatisfy { rebalanced.shards[$0].epoch! > balanced.shards[$0].epoch! })
            #expect(zombie.isRunning)
            #expect(deliveredAfter - deliveredBefore == Double(lateOnZombie), "the resumed worker delivered the late ones of its shards")
            await c.expectCleanStop(workers: ["w-a", "w-b"], monitors: [monitor])
        }
    }

    @Test(
        "a worker paused (SIGSTOP) past its lease while it holds deliveries, then resumed: its shards' messages are each published once, none lost or early"
    )
    func zombieWithDeliveriesInFlight() async throws {
        try await ClusterFixture.run("cl-stall", collect: { s in [s.outputTopic, s.deadTopic] }) { c, s, out in
            let monitors = try await c.startBalanced(["w-a", "w-b"], monitors: ["m1"]).monitors
            let zombie = c.worker("w-a")

            // 3000 messages due over 9 s, from 2.5 s ahead, one every 3 ms: the pause lands on
            // deliveries locked, handed to the producer, or acknowledged and not yet recorded.
            let n = 3_000
            let (start, ids) = try await s.sendSpaced("st", count: n, storedIn: c.store, key: { $0 % 3 == 0 ? nil : "key-\($0 % 11)" }) {
                2_500 + Int64($0) * 3
            }

            try await sleep(until: start + 4_000)
            var inFlight: Set<String> = []
            while inFlight.isEmpty && WorkerScenario.now < start + 4_500 { inFlight = try await s.lockedIDs(c.store, worker: "w-a") }
            await zombie.signal(SIGSTOP)
            let pausedAt = WorkerScenario.now
            inFlight = try await s.lockedIDs(c.store, worker: "w-a")
            _ = try await c.waitBalanced(live: ["w-b"], within: .seconds(10))
            // Paused 7 s: past the heartbeat timeout and the lease, and the new owner has re-published by then.
            try await sleep(until: pausedAt + 7_000)
            await zombie.signal(SIGCONT)
            _ = try await c.waitBalanced(live: ["w-a", "w-b"], within: .seconds(15))

            await out.waitDistinct(n, on: s.outputTopic, within: .seconds(40)) { $0.header("tock-id") }
            do {
                try await waitUntil("the store is empty", within: .seconds(20)) { try await s.storedMessageCount(c.store) == 0 }
            } catch {
                Issue.record("\(error); w-a's log: \(zombie.log.suffix(3_000))")
            }
            await out.settle(on: s.outputTopic, quiet: .seconds(2))

            let summary = DeliverySummary(out.on(s.outputTopic), expected: Set(ids)) { $0.header("tock-id") }
            let withheld = zombie.log.components(separatedBy: "leases ran out first").count - 1
            let foundByReadBack = c.worker("w-b").log.components(separatedBy: "an earlier attempt is already in its partition").count - 1
            let replaced = zombie.log.components(separatedBy: "fenced the output producer; replaced it").count - 1
            print(
                "[cluster-stall] N=\(n); paused w-a at +\(pausedAt - start) ms with \(inFlight.count) deliveries locked; "
                    + "after resuming it withheld \(withheld) batches and replaced its producer \(replaced)x; w-b found \(foundByReadBack) by read-back; \(summary)"
            )
            let copies = out.on(s.outputTopic).filter { summary.duplicated.contains($0.header("tock-id") ?? "") }.map {
                "\($0.header("tock-id") ?? "?") attempt \($0.header("tock-attempt") ?? "?") p\($0.message.partition)@\($0.message.offset) "
                    + "stamped +\(($0.message.timestamp?.milliseconds ?? 0) - start) ms"
            }
            #expect(!inFlight.isEmpty, "the pause landed on no delivery in flight")
            // A record the producer already held at the stop times out in librdkafka instead of
            // leaving after the new owner published it (docs/never-twice.md).
            #expect(summary.duplicates.isEmpty, "\(summary); copies: \(copies)")
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(out.on(s.deadTopic).isEmpty)
            await c.expectCleanStop(workers: ["w-a", "w-b"], monitors: monitors)
        }
    }

    // MARK: - 3. Leader monitor killed

    @Test("the leading monitor SIGKILLed: the standby leads within heartbeatTimeout and then fails a killed worker over; none lost or early")
    func leaderMonitorKilled() async throws {
        try await ClusterFixture.run("cl-leader", collect: { s in [s.outputTopic] }) { c, s, out in
            let (monitors, balanced) = try await c.startBalanced(["w-a", "w-b"], monitors: ["m1", "m2"])

            // 1500 messages due over 6 s, from 5 s ahead (after the leader's death is over).
            let n = 1_500
            let (start, ids) = try await s.sendSpaced("l", count: n, storedIn: c.store) { 5_000 + Int64($0) * 4 }

            var leader: MonitorProcessHandle?
            for monitor in monitors {
                if try await monitor.cluster().leading { leader = monitor }
            }
            let oldLeader = try #require(leader)
            let standby = monitors.first { $0 !== oldLeader }!
            let killedAt = WorkerScenario.now
            #expect(await oldLeader.signal(SIGKILL, waitUpTo: .seconds(5)) != nil)
            var takeover = ClusterSnapshot.empty(monitor: "")
            try await waitUntil("the standby leads", within: .seconds(8), every: .milliseconds(20)) {
                takeover = try await standby.cluster()
                return takeover.leading
            }
            let tookOverAfter = WorkerScenario.now - killedAt
            let afterTakeover = try await c.waitBalanced(live: ["w-a", "w-b"], within: .seconds(5))

            let victim = afterTakeover.busiestWorker
            let survivor = victim == "w-a" ? "w-b" : "w-a"
            let victimShards = Set(afterTakeover.shards(of: victim))
            try await sleep(until: start + 7_000)
            let workerKilledAt = WorkerScenario.now
            #expect(await c.worker(victim).signal(SIGKILL, waitUpTo: .seconds(5)) != nil)
            let inFlight = try await s.lockedIDs(c.store, worker: victim)
            let failover = try await c.waitBalanced(live: [survivor], within: .seconds(10))
            let movedAfter = failover.takenAtMillis - workerKilledAt

            let (summary, _) = try await s.deliveredSummary(out, expected: Set(ids), store: c.store, within: .seconds(30), emptyWithin: .seconds(15))
            let handoff = Failover(
                out.on(s.outputTopic).filter { victimShards.contains(c.store.shardMap.shard(of: $0.header("tock-id") ?? "")) },
                killedAt: workerKilledAt)
            let duplicated = summary.duplicated
            print(
                "[cluster-leader] killed leader \(balanced.monitor); \(takeover.monitor) led \(tookOverAfter) ms later "
                    + "(shards unchanged: \(afterTakeover.shards == balanced.shards)); killed \(victim) (shards \(victimShards.sorted())) at "
                    + "+\(workerKilledAt - start) ms with \(inFlight.count) in flight; its shards on \(survivor) \(movedAfter) ms later; "
                    + "max lateness \(summary.maxLatenessMillis) ms; \(handoff); \(summary)")
            #expect(takeover.monitor != balanced.monitor)
            #expect(tookOverAfter <= Self.heartbeatTimeoutMillis + 1_000, "the standby took \(tookOverAfter) ms to lead")
            // A takeover alone moves no shard.
            #expect(afterTakeover.shards == balanced.shards)
            #expect(failover.shards.allSatisfy { $0.owner == survivor })
            #expect(movedAfter <= Self.heartbeatTimeoutMillis + Self.moveSlackMillis)
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(duplicated.isSubset(of: inFlight), "duplicates outside the in-flight set: \(duplicated.subtracting(inFlight).sorted())")
            // What the dead worker held locked waits for its lease (delivery.leaseTimeout, 3 s, from
            // its last renewal), the new owner's claim and a read-back: measured 4.0–4.1 s alone, 5.1 s
            // with the whole suite running beside it on 2 cores.
            #expect(handoff.millis <= Self.heartbeatTimeoutMillis + 2_500, "\(handoff)")
            await c.expectCleanStop(workers: [survivor], monitors: [standby])
        }
    }

    @Test("a leading monitor paused past its lease (SIGSTOP) follows once resumed, and its cluster gauges read 0, not its last view")
    func pausedLeaderGaugesAreTrue() async throws {
        try await ClusterFixture.run("cl-gauges") { c in
            let first = try await c.startMonitor("m1")
            try await c.startBalanced(["w-a"])
            let second = try await c.startMonitor("m2")
            let leader = try await first.cluster().leading ? first : second
            let standby = leader === first ? second : first
            var scrape = try await MetricsScrape.get(port: leader.httpPort)
            #expect(scrape.value("tock_monitor_leader") == 1)
            #expect(scrape.value("tock_monitor_live_workers") == 1)

            await leader.signal(SIGSTOP)
            try await waitUntil("the standby leads", within: .seconds(10)) { try await standby.cluster().leading }
            await leader.signal(SIGCONT)
            try await waitUntil("the paused leader follows", within: .seconds(5)) { try await !leader.cluster().leading }
            scrape = try await MetricsScrape.get(port: leader.httpPort)
            let standbyScrape = try await MetricsScrape.get(port: standby.httpPort)
            print(
                "[cluster-gauges] former leader: \(scrape.lines(startingWith: "tock_monitor_").filter { !$0.hasPrefix("tock_monitor_reassign") }); "
                    + "new leader: \(standbyScrape.lines(startingWith: "tock_monitor_live_workers"))")
            #expect(scrape.value("tock_monitor_leader") == 0)
            #expect(scrape.value("tock_monitor_live_workers") == 0)
            #expect(scrape.value(#"tock_monitor_shards{worker="w-a"}"#) ?? 0 == 0)
            #expect(standbyScrape.value("tock_monitor_live_workers") == 1)
            await c.expectCleanStop(workers: [], monitors: [leader, standby])
        }
    }

    // MARK: - 4. Scaling

    @Test("scaling 1 → 2 → 3 → 2 workers under load: balanced after each change, a graceful leave moves at once, each message once")
    func scalingUnderLoad() async throws {
        try await ClusterFixture.run("cl-scale", collect: { s in [s.outputTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            var views = [try await c.startBalanced(["w1"]).balanced]

            // 4000 messages due over 14 s, from 2 s ahead.
            let n = 4_000
            let (start, ids) = try await s.sendSpaced("s", count: n, storedIn: c.store) { 2_000 + Int64($0) * 7 / 2 }

            var steps: [String] = []
            for (added, live) in [("w2", ["w1", "w2"]), ("w3", ["w1", "w2", "w3"])] {
                let at = WorkerScenario.now
                _ = try await c.startWorker(added, waitReady: false)
                let view = try await c.waitBalanced(live: Set(live))
                views.append(view)
                steps.append(
                    "+\(added) at +\(at - start) ms: balanced \(view.takenAtMillis - at) ms later \(view.shardCounts.sorted { $0.key < $1.key })")
            }
            // A graceful leave: SIGTERM w2 once it consumes, while messages are due.
            try await c.worker("w2").waitForLog("input partitions assigned", within: .seconds(30))
            let leaving = c.worker("w2")
            let termAt = WorkerScenario.now
            await leaving.signal(SIGTERM, waitUpTo: .zero)
            let left = try await c.waitBalanced(live: ["w1", "w3"], within: .seconds(10))
            let leaveMillis = left.takenAtMillis - termAt
            views.append(left)
            let status = await leaving.waitForExit(within: .seconds(30))
            let exitedAfter = WorkerScenario.now - termAt
            steps.append(
                "-w2 (SIGTERM) at +\(termAt - start) ms: no longer an owner \(leaveMillis) ms later "
                    + "\(left.shardCounts.sorted { $0.key < $1.key }), exited \(status.map(String.init) ?? "not") after \(exitedAfter) ms")

            let (summary, _) = try await s.deliveredSummary(out, expected: Set(ids), store: c.store, within: .seconds(30), emptyWithin: .seconds(15))
            print(
                "[cluster-scale] N=\(n); \(steps.joined(separator: "; ")); last due at +\(2_000 + (n - 1) * 7 / 2) ms; "
                    + "reassignments \(left.reassignments); max lateness \(summary.maxLatenessMillis) ms; \(summary)")
            for view in views { #expect(view.imbalance(live: view.liveWorkers) == nil) }
            #expect(views.map(\.liveWorkers.count) == [1, 2, 3, 2])
            #expect(status == 0)
            #expect(leaving.log.contains("deregistered from the cluster"))
            #expect(leaveMillis < 2_000, "a graceful leave took \(leaveMillis) ms to hand the shards over")
            #expect(summary.duplicates.isEmpty, "\(summary)")
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            await c.expectCleanStop(workers: ["w1", "w3"], monitors: [monitor])
        }
    }

    // MARK: - 5. Redis restarted

    @Test("Redis killed and restarted (AOF, appendfsync always) while messages are due: the cluster reconnects, none lost or early")
    func redisRestarted() async throws {
        // A Redis of this test's own: the shared stack's serves the suites running in parallel.
        let redis = try await RedisTestServer.start()
        defer { redis.stop() }
        try await ClusterFixture.run("cl-redis", redisURL: redis.url, collect: { s in [s.outputTopic] }) { c, s, out in
            let monitor = try await c.startMonitor("m1")
            let balanced = try await c.startBalanced(["w-a", "w-b"]).balanced

            // 2000 messages due over 10 s, from 2 s ahead; Redis restarts 4 s into them.
            let n = 2_000
            let (start, ids) = try await s.sendSpaced("r", count: n, storedIn: c.store) { 2_000 + Int64($0) * 5 }

            try await sleep(until: start + 6_000)
            let lockedBefore = try await s.leasedIDs(c.store)
            let killedAt = WorkerScenario.now
            // A crash, and a second before it is back (AOF replayed): calls fail meanwhile.
            redis.kill()
            try await Task.sleep(for: .seconds(1))
            try await redis.launch()
            let upAt = WorkerScenario.now
            let lockedAfter = try await s.leasedIDs(c.store)
            // Healthy again: the monitor leads with a fresh view, both workers heartbeat again and
            // keep their shards.
            var healthy = ClusterSnapshot.empty(monitor: "")
            try await waitUntil("the cluster view is healthy after the restart", within: .seconds(10), every: .milliseconds(20)) {
                guard let view = try? await monitor.cluster(), view.leading, view.takenAtMillis > upAt else { return false }
                healthy = view
                return view.imbalance(live: ["w-a", "w-b"]) == nil && view.workers.allSatisfy { $0.lastHeartbeatMillis > upAt }
            }
            let healthyAfter = healthy.takenAtMillis - upAt

            let (summary, arrivals) = try await s.deliveredSummary(
                out, expected: Set(ids), store: c.store, within: .seconds(30), emptyWithin: .seconds(15))
            let duplicated = summary.duplicated
            let reconnected = ["w-a", "w-b"].map { c.worker($0).log.contains("reconnected to Redis") }
            print(
                "[cluster-redis] N=\(n); Redis down at +\(killedAt - start) ms for \(upAt - killedAt) ms; \(lockedBefore.count) locked before, "
                    + "\(lockedAfter.count) after; cluster healthy \(healthyAfter) ms after it was up (reassignments \(healthy.reassignments), "
                    + "shards unchanged: \(healthy.shards == balanced.shards)); workers logged a reconnect: \(reconnected), monitor: "
                    + "\(monitor.log.contains("reconnected to Redis")); \(duplicated.count) duplicated \(duplicated.sorted().prefix(10)); "
                    + "max lateness \(summary.maxLatenessMillis) ms; \(summary)")
            #expect(summary.missing.isEmpty, "\(summary)")
            #expect(summary.unexpected.isEmpty, "\(summary)")
            #expect(summary.early.isEmpty, "\(summary)")
            #expect(healthy.shards == balanced.shards, "a short Redis outage moves no shard")
            // Guarantee 3's window only: a copy is the retry of a delivery whose outcome the
            // outage kept from being recorded (the lock was held across the restart).
            #expect(duplicated.isSubset(of: lockedBefore.union(lockedAfter)), "\(duplicated.subtracting(lockedBefore.union(lockedAfter)).sorted())")
            #expect(summary.duplicates.values.allSatisfy { $0 == 2 })
            for arrival in arrivals where arrival.header("tock-id").map(duplicated.contains) == true {
                #expect(["1", "2"].contains(arrival.header("tock-attempt") ?? ""))
            }
            await c.expectCleanStop(workers: ["w-a", "w-b"], monitors: [monitor])
        }
    }
}

// MARK: - Helpers

/// Sleeps until the wall clock reads `millis`.
private func sleep(until millis: Int64) async throws {
    try await Task.sleep(for: .milliseconds(max(0, millis - WorkerScenario.now)))
}

/// How long a killed worker's messages waited for their new owner: for each id (its first copy),
/// the time from its due time, or from the kill if it was due before (a backlog the worker had
/// not worked off: no failover makes that up), to its record's timestamp; the largest. With no
/// backlog at the kill this is the messages' plain maximum lateness.
struct Failover: CustomStringConvertible {
    var millis: Int64 = 0
    /// How far behind the worker was when it died: the kill time minus the earliest due time of
    /// its messages published after it.
    var backlogMillis: Int64 = 0

    init(_ arrivals: [OutputCollector.Arrival], killedAt: Int64) {
        var first: [String: (stamp: Int64, due: Int64)] = [:]
        for arrival in arrivals {
            guard let id = arrival.header("tock-id"), let stamp = arrival.message.timestamp?.milliseconds,
                let due = arrival.header("tock-at").flatMap({ Int64($0) })
            else { continue }
            if first[id].map({ stamp < $0.stamp }) ?? true { first[id] = (stamp, due) }
        }
        for (stamp, due) in first.values {
            millis = max(millis, stamp - max(due, killedAt))
            if stamp > killedAt { backlogMillis = max(backlogMillis, killedAt - due) }
        }
    }

    var description: String { "failover \(millis) ms (from due time or kill), backlog at the kill \(backlogMillis) ms" }
}
