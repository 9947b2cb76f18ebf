import Logging
import Synchronization
import TockCore
import TockStore

/// SPEC guarantee 5 for a worker: while its clock is beyond `clock.maxSkew` with `clock.onSkew:
/// hold`, or cannot be measured, it fires nothing. `WorkerState` then reports no shard to fire
/// from; this empties the wheel, and heartbeats say `holding` so that the monitor gives the shards
/// to workers that can fire. When the clock is good again, the shards it still owns are released
/// and claimed again from the start (what the wheel dropped comes back).
public final class ClockHold: Sendable {
    let state: WorkerState
    let store: ScheduleStore
    let logger: Logger
    private let fire = Mutex<FireService?>(nil)

    public init(state: WorkerState, store: ScheduleStore, logger: Logger) {
        self.state = state
        self.store = store
        self.logger = logger
    }

    /// The fire service, once built (the clock is measured before it is).
    func attach(_ fire: FireService) { self.fire.withLock { $0 = fire } }

    public func apply(_ status: ClockStatus) async {
        switch state.setClock(status) {
        case nil:
            return
        case .held(let owned):
            guard !owned.isEmpty else { return }
            fire.withLock { $0 }?.dropShards(Set(owned.keys))
            logger.error(
                "firing nothing while the clock cannot be trusted; the monitor gives this worker's shards to others",
                metadata: ["shards": "\(owned.keys.sorted())", "clock": "\(status.detail)"])
        case .resumed(let owned):
            guard !owned.isEmpty else { return }
            var released = 0
            for (shard, owner) in owned.sorted(by: { $0.key < $1.key }) {
                do { released += try await store.release(shard: shard, as: owner) } catch .fenced(_, let detail) {
                    // Moved to another worker while this one held: it is theirs now.
                    if state.dropShard(shard) {
                        logger.notice(
                            "fenced: lost shard ownership while holding; it went to another worker",
                            metadata: ["shard": "\(shard)", "detail": "\(detail)"])
                    }
                } catch {
                    logger.warning(
                        "could not release a shard on resuming; its next claim takes it", metadata: ["shard": "\(shard)", "error": "\(error)"])
                }
            }
            fire.withLock { $0 }?.claimSoon()
            logger.notice(
                "firing again: the clock can be trusted",
                metadata: ["shards": "\(owned.keys.sorted())", "released": "\(released)", "clock": "\(status.detail)"])
        }
    }
}
