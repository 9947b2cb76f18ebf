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
    public enum Catchup: String, Sendable, CaseIterable {
        /// Each missed occurrence fires once, oldest first.
        case all
        /// Only the newest missed occurrence fires.
        case latest
        /// Missed occurrences are skipped.
        case none
    }

    public var pattern: Pattern
    /// The first occurrence of an `every` series; the earliest time of a `cron` series.
    public var startMillis: Int64
    /// `tock-until`: no occurrence after this time.
    public var untilMillis: Int64?
    /// `tock-count`: at most this many occurrences fire (skipped ones do not count).
    public var count: Int?
    public var catchup: Catchup

    public init(pattern: Pattern, startMillis: Int64, untilMillis: Int64? = nil, count: Int? = nil, catchup: Catchup = .all) {
        self.pattern = pattern
        self.startMillis = startMillis
        self.untilMillis = untilMillis
        self.count = count
        self.catchup = catchup
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

    /// The next occurrence to fire, after `previous` (nil: none yet), when `fired` have fired and
    /// the series is looked at `nowMillis`; nil when the series has ended. `skipped` counts the
    /// missed occurrences that `catchup` passes over.
    public func next(after previous: Int64?, fired: Int, nowMillis: Int64) -> (dueMillis: Int64, skipped: Int)? {
        if let count, fired >= count { return nil }
        guard var due = occurrence(after: previous) else { return nil }
        var skipped = 0
        switch catchup {
        case .all:
            break
        case .latest where due < nowMillis:
            if case .every(let interval) = pattern {
                // The newest occurrence due by now (and by the end), in one step.
                let limit = min(nowMillis, untilMillis ?? nowMillis)
                let steps = max(0, (limit - due).floorDivided(by: interval))
                due += steps * interval
                skipped = Int(steps)
                break
            }
            // Move to the newest occurrence due by now, if more than one is.
            while let following = occurrence(after: due), following <= nowMillis, untilMillis.map({ following <= $0 }) ?? true {
                due = following
                skipped += 1
            }
        case .latest:
            break
        case .none where due < nowMillis:
            if case .every(let interval) = pattern {
                let steps = (nowMillis - due + interval - 1).floorDivided(by: interval)
                due += steps * interval
                skipped = Int(steps)
                break
            }
            while due < nowMillis, let following = occurrence(after: due) {
                due = following
                skipped += 1
            }
        case .none:
            break
        }
        if let untilMillis, due > untilMillis { return nil }
        return (due, skipped)
    }
}
