/// A cancel by tag (`DELETE /v1/tags/<tag>`): its state in Redis (`StoreKeys.tagJobs`), so that
/// whichever monitor leads carries it on. Pure: `TagCancelService` runs it.
///
/// Each shard's tagged ids are walked with SSCAN; `cursors` holds, per shard not yet done, where
/// the walk goes on ("0" before it starts). Progress is saved only after the cancels of a step are
/// acknowledged by Kafka, so a monitor that dies mid-step leaves that step to be done again: its
/// cancels are written twice, which changes nothing (a cancel of a cancelled id is a no-op).
public struct TagCancelJob: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case running, done
    }

    public var job: String
    public var tag: String
    public var state: State
    /// Cancel requests written so far.
    public var cancelled: Int
    /// Shard → SSCAN cursor, for the shards not done yet.
    public var cursors: [String: String]
    public var createdMillis: Int64
    public var updatedMillis: Int64
    /// The API token's name that asked for it.
    public var requestedBy: String

    public init(job: String, tag: String, shardCount: Int, nowMillis: Int64, requestedBy: String) {
        self.job = job
        self.tag = tag
        state = shardCount > 0 ? .running : .done
        cancelled = 0
        cursors = Dictionary(uniqueKeysWithValues: (0..<shardCount).map { (String($0), "0") })
        createdMillis = nowMillis
        updatedMillis = nowMillis
        self.requestedBy = requestedBy
    }

    /// The shard to walk next, and where: the lowest one not done.
    public var next: (shard: Int, cursor: String)? {
        cursors.compactMap { key, cursor in Int(key).map { ($0, cursor) } }.min { $0.0 < $1.0 }.map { (shard: $0.0, cursor: $0.1) }
    }

    /// Records a step: `shard` walked on to `cursor` ("0": the shard is done), `count` cancels written.
    public mutating func advance(shard: Int, to cursor: String, cancelled count: Int, nowMillis: Int64) {
        cancelled += count
        cursors[String(shard)] = cursor == "0" ? nil : cursor
        if cursors.isEmpty { state = .done }
        updatedMillis = nowMillis
    }

    /// What `GET /v1/jobs/<job>` answers.
    public var report: Report { Report(job: job, tag: tag, state: state.rawValue, cancelled: cancelled, shardsLeft: cursors.count) }

    public struct Report: Codable, Sendable, Equatable {
        public var job: String
        public var tag: String
        public var state: String
        public var cancelled: Int
        public var shardsLeft: Int
    }
}
