/// An accepted message waiting for its due time: everything needed to publish it.
public struct ScheduledMessage: Sendable, Hashable {
    /// `tock-id`, or `topic/partition/offset` of the request when none was given.
    public var id: String
    /// False when `id` is the default derived from the request's position.
    public var idWasGiven: Bool
    public var dueMillis: Int64
    /// When the worker stored it (0 when unknown): a tombstone written then covers its firing in
    /// the same tombstone window (`TombstoneWindows`).
    public var storedMillis: Int64 = 0
    public var topic: String
    public var key: [UInt8]?
    /// Nil for a null value, published as null (not empty: on a compacted topic null deletes the key).
    public var value: [UInt8]?
    /// The request's headers whose names do not start with `tock-`, in order, duplicates and
    /// null values included.
    public var headers: [RecordHeader]
    /// Set for a series (SPEC "Recurring schedules"): `dueMillis` is then its first occurrence,
    /// and each occurrence is published as this message with its own id and due time.
    public var series: SeriesDefinition?
    /// `tock-tags`, each once (`TagList`); kept in the store's tag index, not in the message.
    public var tags: [String] = []

    public init(
        id: String,
        idWasGiven: Bool,
        dueMillis: Int64,
        topic: String,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [RecordHeader],
        series: SeriesDefinition? = nil
    ) {
        self.id = id
        self.idWasGiven = idWasGiven
        self.dueMillis = dueMillis
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.series = series
    }
}

/// What a valid request asks for (`tock-action`).
public enum ParsedRequest: Sendable, Hashable {
    case schedule(ScheduledMessage)
    /// Replaces a pending message with the same id, or schedules it when the id is unknown.
    case reschedule(ScheduledMessage)
    case cancel(id: String)
    /// Schedules a dead letter again under its id (`tock-action: requeue`): its tombstone does not
    /// make it a duplicate.
    case requeue(ScheduledMessage)
    /// Pauses or resumes the series `id` (`tock-action: pause` / `resume`).
    case pause(id: String)
    case resume(id: String)

    public var id: String {
        switch self {
        case .schedule(let message), .reschedule(let message), .requeue(let message): message.id
        case .cancel(let id), .pause(let id), .resume(let id): id
        }
    }
}

extension ParsedRequest {
    public var isRequeue: Bool { if case .requeue = self { true } else { false } }
    public var isPause: Bool { if case .pause = self { true } else { false } }
}
