import Logging
import Metrics
import TockCore

/// What every part of the fire path reads: the configuration, the worker's shards, its metrics,
/// the reference clock and the logger.
struct FireContext: Sendable {
    let configuration: TockConfiguration
    let state: WorkerState
    let metrics: WorkerMetrics
    let clock: any WallClock
    let logger: Logger

    var leaseTerms: LeaseTerms { LeaseTerms(configuration.delivery) }

    /// A store error that is not a shard's own: Redis is unreachable or failing.
    func redisFailed(_ message: Logger.Message, error: any Error, metadata: Logger.Metadata = [:], unready: Bool = false) {
        metrics.redisErrors.increment()
        if unready { state.setRedisError("\(error)") }
        logger.warning(message, metadata: metadata.merging(["error": "\(error)"]) { a, _ in a })
    }

    /// A shard fenced by a newer owner: this worker stops firing it and leaves its messages to
    /// the new owner.
    func lostShard(_ shard: Int, detail: String, wheel: DeliveryWheel) {
        guard state.dropShard(shard) else { return }
        logger.warning(
            "fenced: lost shard ownership; its messages are left to the new owner", metadata: ["shard": "\(shard)", "detail": "\(detail)"])
        wheel.dropShards([shard])
    }
}

extension Timer {
    func recordMilliseconds(_ milliseconds: Int64) { recordNanoseconds(milliseconds * 1_000_000) }
}
