import Logging
import ServiceLifecycle
import TockCore
import TockStore

/// `cluster.mode: monitored`: the worker heartbeats every `cluster.heartbeatInterval`; each reply
/// carries the shards the leading monitor assigned to it and their owner epochs. The worker acts
/// only on those. A shard it gains is released and claimed again by it (so what the previous
/// owner had claimed, overdue or not, comes into this wheel); a shard it loses leaves its wheel at
/// once. On graceful shutdown, after the wheel was handed back, it deregisters so the monitor
/// reassigns its shards without waiting for the heartbeat timeout.
public struct MonitoredOwnership: Service {
    let store: ScheduleStore
    let state: WorkerState
    let fire: FireService
    let intervalMillis: Int64
    let clock: any WallClock
    let logger: Logger

    public init(
        store: ScheduleStore, state: WorkerState, fire: FireService, intervalMillis: Int64, clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.store = store
        self.state = state
        self.fire = fire
        self.intervalMillis = intervalMillis
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = clock.nowMillis()
            do {
                let summary = state.summary(nowMillis: started)
                // A worker whose clock holds it back says so: the monitor gives it no shard, and it
                // takes none meanwhile (`ClockHold` gave up what it had).
                let holding = state.firingHeld
                let assignment = try await store.cluster.heartbeat(worker: state.workerID, holding: holding, summary: summary)
                if holding { state.markOwnershipAcquired() } else { try await apply(assignment) }
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
            let elapsed = clock.nowMillis() - started
            try? await Task.sleep(for: .milliseconds(max(10, intervalMillis - elapsed)))
        }
        do {
            _ = try await store.cluster.heartbeat(worker: state.workerID, leaving: true)
            logger.info("deregistered from the cluster")
        } catch {
            logger.warning("could not deregister; the monitor reassigns the shards after the heartbeat timeout", metadata: ["error": "\(error)"])
        }
    }

    func apply(_ assignment: [Int: Int64]) async throws {
        let change = AssignmentChange(owned: state.ownerships, assigned: assignment, worker: state.workerID)
        let lost = change.lost
        for shard in lost { state.dropShard(shard) }
        fire.dropShards(lost)
        var taken: [Int: ShardOwnership] = [:]
        var released = 0
        for (shard, owner) in change.gained {
            let result: Result<Int, StoreError>
            do { result = .success(try await store.release(shard: shard, as: owner)) } catch { result = .failure(error) }
            switch result {
            case .success(let count):
                released += count
                taken[shard] = owner
            case .failure(.fenced):
                continue  // reassigned again meanwhile; the next heartbeat says to whom
            case .failure(let error):
                throw error
            }
        }
        state.addShards(taken)
        if !taken.isEmpty || !lost.isEmpty {
            logger.info(
                "assignment changed",
                metadata: [
                    "gained": "\(taken.keys.sorted())", "lost": "\(lost.sorted())", "released": "\(released)", "owned": "\(state.ownerships.count)",
                ])
        }
        if !taken.isEmpty { fire.claimSoon() }
        state.markOwnershipAcquired()
    }
}
