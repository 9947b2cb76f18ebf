import TockCore
import TockStore

/// What `/v1/messages/<tock-id>` answers: the state, due time and attempts of a message or a
/// series. An occurrence's id (`<series>@<due>`) that names no message answers with its series.
public struct MessageLookup: Codable, Sendable, Equatable {
    public var id: String
    public var shard: Int
    /// pending, claimed, delivering, ended, unknown or cold (`MessageStatus.State`; cold: its record
    /// is in a cold topic, Redis knows only its due time).
    public var state: String
    /// A message's due time; a series' current occurrence's.
    public var dueMillis: Int64?
    /// When it fires next (pending, claimed), or its lease's end (delivering).
    public var nextFireMillis: Int64?
    public var attempts: Int
    public var topic: String?
    /// A series' definition, and its occurrences fired so far.
    public var series: String?
    public var fired: Int?
    public var note: String?

    public init(_ status: MessageStatus, note: String? = nil) {
        id = status.id
        shard = status.shard
        state = status.state.rawValue
        dueMillis = status.series?.dueMillis ?? status.message?.dueMillis ?? (status.state == .cold ? status.scoreMillis : nil)
        nextFireMillis = status.state == .cold ? nil : status.scoreMillis
        attempts = status.attempts
        topic = status.message?.topic
        series = status.message?.series?.summary
        fired = status.series?.fired
        self.note = note
    }

    /// Looks `id` up in the store (`ScheduleStore.lookUp`).
    public static func find(_ id: String, in store: ScheduleStore, nowMillis: Int64) async throws(StoreError) -> MessageLookup {
        let found = try await store.lookUp(id, nowMillis: nowMillis)
        return MessageLookup(found.status, note: found.occurrenceOf.map { "\(id) is an occurrence of series \($0)" })
    }
}
