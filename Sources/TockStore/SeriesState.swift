import TockCore

/// A series' state as the store keeps it (`prelude.lua`'s `seriesState`): the due time of its
/// current occurrence, the occurrences published under its id so far, the generation a
/// reschedule bumps, and the due time of the latest occurrence published under its id. The last
/// two outlive reschedules: an occurrence at or before that mark is never published again.
public struct SeriesState: Sendable, Hashable {
    public var dueMillis: Int64
    /// Occurrences published (or dead-lettered) under the series' id, across reschedules.
    public var fired: Int
    public var generation: Int
    /// The due time of the latest occurrence published (or dead-lettered) under the series' id,
    /// across reschedules; nil when none was.
    public var publishedThrough: Int64?
    /// As stored.
    public var stored: String

    /// Reads `due:fired:generation[:mark]`, where the mark is the published-through time, or `A`
    /// (written before the mark existed: the current occurrence was published).
    public init?(stored: String) {
        let parts = stored.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, let due = Int64(parts[0]), let fired = Int(parts[1]),
            let generation = Int(parts[2])
        else { return nil }
        dueMillis = due
        self.fired = fired
        self.generation = generation
        if parts.count == 4 {
            if parts[3] == "A" {
                publishedThrough = due
            } else if let mark = Int64(parts[3]) {
                publishedThrough = mark
            } else {
                return nil
            }
        }
        self.stored = stored
    }

    /// Whether the current occurrence was published already: it then only advances.
    public var published: Bool { publishedThrough.map { $0 >= dueMillis } ?? false }
}

/// The series behind a locked occurrence.
public struct SeriesProgress: Sendable {
    /// The series' `tock-id`.
    public var id: String
    public var state: SeriesState
    public let definition: SeriesDefinition
    /// The definition's rule, read once (a cron expression and a zone look-up); nil when it no
    /// longer reads here (a tz database without its zone).
    public let recurrence: Recurrence?

    public init(id: String, state: SeriesState, definition: SeriesDefinition) {
        self.id = id
        self.state = state
        self.definition = definition
        recurrence = try? definition.recurrence()
    }

    /// The occurrence after the current one once it is published; nil when the series ends.
    public var nextAfterPublishing: Int64? {
        recurrence?.following(state.dueMillis, fired: state.fired + 1)
    }
}
