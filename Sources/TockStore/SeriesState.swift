import TockCore

/// A series' state as the store keeps it (`finish.lua`'s header): the due time of its current
/// occurrence, the occurrences fired so far, the generation a reschedule bumps, and whether the
/// current occurrence was published already (it then only advances).
public struct SeriesState: Sendable, Hashable {
    public var dueMillis: Int64
    public var fired: Int
    public var generation: Int
    public var published: Bool
    /// As stored: `finish` places the next occurrence only while the series still has exactly this.
    public var stored: String

    public init?(stored: String) {
        let parts = stored.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, let due = Int64(parts[0]), let fired = Int(parts[1]),
            let generation = Int(parts[2])
        else { return nil }
        dueMillis = due
        self.fired = fired
        self.generation = generation
        published = parts.count == 4 && parts[3] == "A"
        self.stored = stored
    }
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
