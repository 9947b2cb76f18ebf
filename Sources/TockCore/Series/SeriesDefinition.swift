/// A series as it is stored (SPEC "Recurring schedules"): the rule's values as the request gave
/// them, with its start resolved. `recurrence()` turns it into the rule a worker computes with.
public struct SeriesDefinition: Sendable, Hashable {
    /// `tock-cron`, or nil for a `tock-every` series.
    public var cron: String?
    /// `tock-tz` of a cron series.
    public var timeZone: String
    /// `tock-every` in milliseconds, or nil for a cron series.
    public var everyMillis: Int64?
    /// The first occurrence of an `every` series; the earliest time of a `cron` series.
    public var startMillis: Int64
    public var untilMillis: Int64?
    public var count: Int?
    public var catchup: Recurrence.Catchup

    public init(
        cron: String?, timeZone: String = "UTC", everyMillis: Int64?, startMillis: Int64, untilMillis: Int64? = nil,
        count: Int? = nil, catchup: Recurrence.Catchup = .all
    ) {
        self.cron = cron
        self.timeZone = timeZone
        self.everyMillis = everyMillis
        self.startMillis = startMillis
        self.untilMillis = untilMillis
        self.count = count
        self.catchup = catchup
    }

    /// The rule; throws `bad-cron` or `bad-timezone` when the expression or the zone no longer
    /// reads (a tz database changed under a stored series).
    public func recurrence(zones: (String) -> (any ZoneOffsets)? = { TimeZoneLookup.zone($0) }) throws(RequestRejection) -> Recurrence {
        let pattern: Recurrence.Pattern
        if let cron {
            let expression: CronExpression
            do { expression = try CronExpression(cron) } catch {
                throw RequestRejection(code: .badCron, detail: "tock-cron \"\(cron)\": \(error)")
            }
            guard let zone = zones(timeZone) else {
                throw RequestRejection(
                    code: .badTimezone, detail: "tock-tz \"\(timeZone)\" is not a name of the tz database, such as Europe/Berlin, Japan or UTC")
            }
            pattern = .cron(CronSchedule(expression, zone: zone))
        } else {
            pattern = .every(intervalMillis: everyMillis ?? 1_000)
        }
        return Recurrence(pattern: pattern, startMillis: startMillis, untilMillis: untilMillis, count: count, catchup: catchup)
    }

    /// One line for `tock status` and logs.
    public var summary: String {
        var parts = [cron.map { "cron \"\($0)\" in \(timeZone)" } ?? "every \(DurationText.format(millis: everyMillis ?? 0))"]
        parts.append("from \(startMillis)")
        if let untilMillis { parts.append("until \(untilMillis)") }
        if let count { parts.append("count \(count)") }
        parts.append("catch-up \(catchup.rawValue)")
        return parts.joined(separator: ", ")
    }
}
