import Logging
import ServiceLifecycle
import TockCore
import TockStore

/// `cluster.mode: standalone`: one worker owns every shard. It holds a Redis lease so that a
/// second standalone worker refuses to start; a worker restarted under the same `worker.id`
/// takes the lease back at once, and one restarted under a new id (the default id has the pid in
/// it) waits until its dead predecessor's lease expires.
public struct StandaloneOwnership: Service {
    public static let leaseName = "standalone"
    /// How often a waiting worker asks for the lease again: well within the holder's renewal
    /// interval (a quarter of the lease), so a renewal is seen before the lease could expire.
    static let pollMillis: Int64 = 250

    /// The lease length: longer than a heartbeat timeout, so that a worker stalled as long as
    /// the monitor tolerates keeps it, and short enough that a restart under a new id waits
    /// seconds.
    public static func leaseMillis(_ configuration: TockConfiguration) -> Int64 {
        max(3 * configuration.cluster.heartbeatTimeoutMillis, 5_000)
    }

    public struct LeaseHeld: Error, CustomStringConvertible {
        public var holder: String
        public var description: String {
            "another standalone worker (\(holder)) holds the lease and renews it: stop it, or run both with cluster.mode: monitored"
        }
    }

    let store: ScheduleStore
    let state: WorkerState
    let leaseMillis: Int64
    let logger: Logger

    public init(store: ScheduleStore, state: WorkerState, leaseMillis: Int64, logger: Logger) {
        self.store = store
        self.state = state
        self.leaseMillis = leaseMillis
        self.logger = logger
    }

    /// Takes the lease and every shard at a new epoch, then hands what the shards had claimed
    /// (a previous life's wheel) back to their due index, so the first claim takes it all back.
    ///
    /// A lease held by another worker is watched: its remaining time only falls unless its holder
    /// renews it. A renewal means the holder is alive: `LeaseHeld`. Otherwise the holder died
    /// without giving the lease up, and it is taken once it expires (within `leaseMillis`).
    /// Returns false when graceful shutdown came first.
    public func acquire() async throws -> Bool {
        var watched: LeaseHolder?
        while let held = try await store.acquireLease(Self.leaseName, holder: state.workerID, ttlMillis: leaseMillis) {
            let renewed = watched.map { $0.holder == held.holder && held.remainingMillis > $0.remainingMillis } ?? false
            if renewed || held.remainingMillis < 0 {
                state.setWaiting(nil)
                throw LeaseHeld(holder: held.holder)
            }
            if watched?.holder != held.holder {
                logger.notice(
                    "the standalone lease is held by another worker: waiting for it to expire; if its holder renews it, this worker stops",
                    metadata: [
                        "holder": "\(held.holder)", "expiresInMillis": "\(held.remainingMillis)",
                    ])
            }
            state.setWaiting("waiting for the standalone lease: held by \(held.holder), expires in \(held.remainingMillis) ms unless renewed")
            watched = held
            if Task.isShuttingDownGracefully { return false }
            try await Task.sleep(for: .milliseconds(Self.pollMillis))
        }
        state.setWaiting(nil)
        if let watched {
            logger.notice("took the standalone lease over: its holder had stopped renewing it", metadata: ["previousHolder": "\(watched.holder)"])
        }
        let shards = Array(0..<store.shardMap.shardCount)
        let owned = try await store.takeOwnership(of: shards, worker: state.workerID)
        var reclaimed = 0
        for (shard, owner) in owned { reclaimed += try await store.release(shard: shard, as: owner) }
        state.setOwnerships(owned)
        logger.info("owning every shard (standalone)", metadata: ["shards": "\(shards.count)", "reclaimed": "\(reclaimed)"])
        return true
    }

    /// Renews the lease until graceful shutdown, then gives it up (after the services after it in
    /// the group, which shut down first, have handed their work back).
    public func run() async throws {
        let interval = Duration.milliseconds(max(100, leaseMillis / 4))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do {
                if let held = try await store.acquireLease(Self.leaseName, holder: state.workerID, ttlMillis: leaseMillis) {
                    // Someone took the lease while ours had lapsed: the shards are theirs now.
                    state.setOwnerships([:])
                    throw LeaseHeld(holder: held.holder)
                }
            } catch let error as LeaseHeld {
                throw error
            } catch {
                logger.warning("lease renewal failed", metadata: ["error": "\(error)"])
            }
        }
        await release()
    }

    /// Gives the lease up, so that the next standalone worker need not wait for it to expire.
    public func release() async {
        try? await store.releaseLease(Self.leaseName, holder: state.workerID)
    }
}
