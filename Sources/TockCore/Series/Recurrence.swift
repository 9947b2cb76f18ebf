/// A series' rule, as SPEC's recurring-schedule headers give it: when its occurrences fall, when it
/// ends, and what becomes of occurrences that fell due while no worker could fire them.
public struct Recurrence: Sendable {
    public enum Pattern: Sendable {
        /// `tock-cron` in `tock-tz`.
        case cron(CronSchedule)
        /// `tock-every`: exactly one interval apart, counted from the first occurrence.
        case every(intervalMillis: Int64)
    }

    /// `tock-catchup`.
    public enum Catchup: String, Sendable, Hashable, CaseIterable {
        /// Each missed occurrence fires once, oldest first.
        case all
        /// Only the newest missed occurrence fires.
        case latest
        /// Missed occurrences are skipped.
        case none
    }

    /// What a worker does with an occurrence it is about to publish for the first time.
    public enum CatchUp: Sendable, Equatable {
        /// Publish it.
        case fire
        /// Skip it: the series goes on at this occurrence instead, unpublished until it is fired.
        case moveTo(Int64)
        /// Skip it, and no occurrence is left.
        case end
    }

    public var pattern: Pattern
    /// The first occurrence of an `every` series; the earliest time of a `cron` series.
    public var startMillis: Int64
    /// `tock-until`: no occurrence after this time.
    public var untilMillis: Int64?
    /// `tock-count`: at most this many occurrences are published under the series' id, whichever
    /// definition (before or after a reschedule) published them; skipped ones do not count.
    public var count: Int?
    public var catchup: Catchup

    public init(pattern: Pattern, startMillis: Int64, untilMillis: Int64? = nil, count: Int? = nil, catchup: Catchup = .all) {
        self.pattern = pattern
        self.startMillis = startMillis
        self.untilMillis = untilMillis
        self.count = count
        self.catchup = catchup
    }

    /// The first occurrence; nil when the series has none.
    public var first: Int64? { following(nil, fired: 0) }

    /// The first occurrence at or after `notBeforeMillis` (a request's timestamp: SPEC v3 never
    /// publishes an occurrence due before it); nil when none is left. An `every` series keeps
    /// the phase its start gave it.
    public func first(notBefore notBeforeMillis: Int64) -> Int64? {
        guard notBeforeMillis > startMillis else { return first }
        return following(notBeforeMillis - 1, fired: 0)
    }

    /// Whether `due` is one of this definition's occurrences (its count aside): an occurrence
    /// placed by a definition a reschedule replaced may not be.
    public func contains(_ due: Int64) -> Bool {
        if due < startMillis { return false }
        if let untilMillis, due > untilMillis { return false }
        return occurrence(after: due - 1) == due
    }

    /// What becomes of occurrence `due`, locked for delivery, once `fired` occurrences were
    /// published under the series' id and the latest of them was due at `publishedThrough`.
    /// - Published already (due at or before `publishedThrough`), or not an occurrence of this
    ///   definition (one a replaced definition placed): not published; the series goes on at this
    ///   definition's first occurrence after `publishedThrough`. So an occurrence id is never
    ///   published twice, whatever a reschedule says, and occurrences go out in due order.
    /// - `tock-count` reached (a reschedule carried the count over): the series ends.
    /// - Otherwise `catchUp` decides when `firstTry` (its first attempt at its own due time); a
    ///   retry is published.
    public func settle(
        _ due: Int64, fired: Int, publishedThrough: Int64?, firstTry: Bool, nowMillis: Int64, missedAfterMillis: Int64
    ) -> CatchUp {
        if let publishedThrough, due <= publishedThrough {
            return following(publishedThrough, fired: fired).map(CatchUp.moveTo) ?? .end
        }
        if !contains(due) {
            return following(publishedThrough ?? (startMillis - 1), fired: fired).map(CatchUp.moveTo) ?? .end
        }
        if let count, fired >= count { return .end }
        return firstTry ? catchUp(due, fired: fired, nowMillis: nowMillis, missedAfterMillis: missedAfterMillis) : .fire
    }

    /// The occurrence after `due` (nil: the first) once `fired` occurrences have fired; nil when
    /// the series has ended.
    public func following(_ due: Int64?, fired: Int) -> Int64? {
        if let count, fired >= count { return nil }
        guard let next = occurrence(after: due) else { return nil }
        if let untilMillis, next > untilMillis { return nil }
        return next
    }

    /// Whether occurrence `due` fires when a worker gets to it at `nowMillis` for the first time,
    /// per `tock-catchup`. An occurrence is missed when a later one is due by now (`latest`) or
    /// when it is more than `missedAfterMillis` late (`none`); `all` fires every one.
    public func catchUp(_ due: Int64, fired: Int, nowMillis: Int64, missedAfterMillis: Int64) -> CatchUp {
        switch catchup {
        case .all:
            return .fire
        case .latest:
            guard let next = following(due, fired: fired), next <= nowMillis else { return .fire }
            let limit = min(nowMillis, untilMillis ?? nowMillis)
            if case .every(let interval) = pattern {
                return .moveTo(next + (limit - next).floorDivided(by: interval) * interval)
            }
            // The newest occurrence due by the limit, by bisection over time: a per-second cron after
            // a week away must not take one step per missed occurrence.
            var low = next
            var high = limit
            while low < high {
                let middle = low + (high - low + 1) / 2
                if let first = occurrence(after: middle - 1), first <= limit { low = middle } else { high = middle - 1 }
            }
            return .moveTo(occurrence(after: low - 1) ?? next)
        case .none:
            guard nowMillis - due > missedAfterMillis else { return .fire }
            guard let next = following(nowMillis - missedAfterMillis - 1, fired: fired), next > due else { return .end }
            return .moveTo(next)
        }
    }

    /// The occurrence after `previous` (nil: the first), ignoring the ends.
    func occurrence(after previous: Int64?) -> Int64? {
        switch pattern {
        case .every(let interval):
            guard let previous else { return startMillis }
            // Counted from the first occurrence, never from when the previous one fired.
            let steps = (previous - startMillis).floorDivided(by: interval) + 1
            return startMillis + max(steps, 0) * interval
        case .cron(let schedule):
            return schedule.next(afterMillis: previous ?? (startMillis - 1))
        }
    }
}
