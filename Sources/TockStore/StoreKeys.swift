/// Every Redis key of the store, defined once: the store, its scripts' callers, the benchmarks
/// and the tests name keys only through this type.
///
/// A shard's keys share the hash tag `{<prefix>:<shard>}` (one Redis Cluster slot); the cluster's
/// keys (heartbeats, assignment, monitor leadership) share `{<prefix>}`.
public struct StoreKeys: Sendable, Hashable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    public func tag(_ shard: Int) -> String { "{\(prefix):\(shard)}" }
    /// Hash id → stored message (`MessageCodec`).
    public func messages(_ shard: Int) -> String { "\(tag(shard)):msg" }
    /// Sorted set id → next fire time of every message not being delivered.
    public func queue(_ shard: Int) -> String { "\(tag(shard)):queue" }
    /// Hash: `worker` and `epoch` of the owner, and `claimed`, the time up to which the owner's
    /// wheel holds the queue.
    public func owner(_ shard: Int) -> String { "\(tag(shard)):owner" }
    /// Hash id → delivery attempts made, written only when an attempt failed or was abandoned.
    public func attempts(_ shard: Int) -> String { "\(tag(shard)):att" }
    /// Hash lock id → the ids it locked (MessagePack): one delivery lock per fired batch.
    public func locks(_ shard: Int) -> String { "\(tag(shard)):locks" }
    /// Sorted set lock id → lease expiry.
    public func leases(_ shard: Int) -> String { "\(tag(shard)):leases" }
    /// Sorted set id → fire time of messages stored or retried below the owner's claimed-up-to
    /// time by another worker: the owner's next claim takes them.
    public func inbox(_ shard: Int) -> String { "\(tag(shard)):inbox" }
    /// Hash series id → its state (`SeriesState`); the series itself is in `messages`.
    public func series(_ shard: Int) -> String { "\(tag(shard)):series" }
    /// Hash id → `<published-through>:<fired>` of a series that a one-shot message of the same id
    /// replaced, while that message is pending: a reschedule back into a series carries them on.
    public func retiredSeries(_ shard: Int) -> String { "\(tag(shard)):retired" }
    /// Hash series id → `q` (paused: its current occurrence left the queue, and a resume puts it
    /// back) or `d` (paused while that occurrence was being delivered: its finish places the next
    /// one here, not in the queue, and turns the mark into `q`).
    public func pausedSeries(_ shard: Int) -> String { "\(tag(shard)):paused" }
    /// Hash id → its tags (`a,b`), for tagged ids only (`tagIndex` in prelude.lua).
    public func tagIndex(_ shard: Int) -> String { "\(tag(shard)):tags" }
    /// Set of the ids of the shard that carry `tag`; the scripts build the same name from
    /// `tagIndex`.
    public func taggedIDs(_ shard: Int, tag: String) -> String { "\(tagIndex(shard)):\(tag)" }
    /// Hash input topic/partition → highest offset stored.
    public func watermarks(_ shard: Int) -> String { "\(tag(shard)):wm" }
    /// Hash of the cold index (`coldIndex` in prelude.lua): `level`, `split`, `n` (the shard's
    /// cold messages) and per due hour slot `h<slot>` their count.
    public func coldMeta(_ shard: Int) -> String { "\(tag(shard)):cm" }
    /// The prefix of the cold index's buckets: hashes fingerprint → due and version.
    public func coldBucketPrefix(_ shard: Int) -> String { "\(tag(shard)):c:" }
    /// Hash cold topic/partition → the offset its next read starts at, for the jobs of the shard.
    public func coldPositions(_ shard: Int) -> String { "\(tag(shard)):cp" }
    /// Set of tombstone fingerprints of one window and bucket.
    public func tombstones(_ shard: Int, window: Int64, bucket: Int) -> String { "\(tag(shard)):t:\(window):\(bucket)" }

    /// Hash: `shards` (fixed for the life of the dataset) and `format` (the layout's version).
    public var meta: String { "\(prefix):meta" }
    /// A named lease, such as the standalone worker's.
    public func lease(_ name: String) -> String { "\(prefix):\(name)" }

    public var clusterTag: String { "{\(prefix)}" }
    /// Sorted set worker → last heartbeat (ms).
    public var workers: String { "\(clusterTag):workers" }
    /// Hash worker → its last heartbeat's summary (JSON, `WorkerSummary`), for the console.
    public var workerSummaries: String { "\(clusterTag):summaries" }
    /// Set of live workers that fire nothing (their clock is wrong or unmeasured: SPEC guarantee 5),
    /// to which the monitor gives no shard.
    public var holdingWorkers: String { "\(clusterTag):holding" }
    /// Hash shard → epoch: the workers' view of the assignment, what heartbeats return.
    public func assigned(_ worker: String) -> String { "\(clusterTag):assigned:\(worker)" }
    public var monitorLeader: String { "\(clusterTag):monitor:leader" }
    /// Hash job id → its state (JSON, `TagCancelJob`): the cancels by tag, run by the leading monitor.
    public var tagJobs: String { "\(clusterTag):jobs" }
    public var monitorToken: String { "\(clusterTag):monitor:token" }
    /// String: the next free publish slot of a rate-limited output topic (`rate.lua`).
    public func rateSlots(_ topic: String) -> String { "\(prefix):rate:{\(topic)}" }
}
