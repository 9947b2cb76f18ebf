import Logging
import ServiceLifecycle
import TockCore
import TockStore

/// `cluster.mode: standalone`: one worker owns every shard. It holds a Redis lease so that a
/// second standalone worker refuses to start; a worker restarted under the same `worker.id`
/// takes the lease back at once.
public struct StandaloneOwnership: Service {
    public static let leaseName = "standalone"

    public struct LeaseHeld: Error, CustomStringConvertible {
        public var holder: String
        public var description: String {
            "another standalone worker (\(holder)) holds the lease: stop it, or run both with cluster.mode: monitored"
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
    public func acquire() async throws {
        if let holder = try await store.acquireLease(Self.leaseName, holder: state.workerID, ttlMillis: leaseMillis) {
            throw LeaseHeld(holder: holder)
        }
        let shards = Array(0..<store.shardMap.shardCount)
        let owned = try await store.takeOwnership(of: shards, worker: state.workerID)
        var reclaimed = 0
        for (shard, owner) in owned { reclaimed += try await store.releaseAll(shard: shard, as: owner) }
        state.setOwnerships(owned)
        logger.info("owning every shard (standalone)", metadata: ["shards": "\(shards.count)", "reclaimed": "\(reclaimed)"])
    }

    /// Renews the lease until graceful shutdown, then gives it up (after the services after it in
    /// the group, which shut down first, have handed their work back).
    public func run() async throws {
        let interval = Duration.milliseconds(max(100, leaseMillis / 4))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do {
                if let holder = try await store.acquireLease(Self.leaseName, holder: state.workerID, ttlMillis: leaseMillis) {
                    // Someone took the lease while ours had lapsed: the shards are theirs now.
                    state.setOwnerships([:])
                    throw LeaseHeld(holder: holder)
                }
            } catch let error as LeaseHeld {
                throw error
            } catch {
                logger.warning("lease renewal failed", metadata: ["error": "\(error)"])
            }
        }
        try? await store.releaseLease(Self.leaseName, holder: state.workerID)
    }
}
