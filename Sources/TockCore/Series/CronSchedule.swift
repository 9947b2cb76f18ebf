/// A zone's offset from UTC at an instant (Foundation's `TimeZone` over the system's tz database
/// in production, `TimeZone+ZoneOffsets`).
public protocol ZoneOffsets: Sendable {
    func offsetSeconds(atEpochSeconds seconds: Int64) -> Int
}

/// A `tock-cron` expression in a time zone: the instants it fires at.
///
/// Daylight saving, as SPEC says: a local time that a forward jump skips fires at the first instant
/// after the jump (several skipped times are that one instant, so one occurrence); a local time that
/// a backward jump repeats fires once, at its first instance.
public struct CronSchedule: Sendable {
    public let expression: CronExpression
    public let zone: any ZoneOffsets

    public init(_ expression: CronExpression, zone: any ZoneOffsets) {
        self.expression = expression
        self.zone = zone
    }

    /// The first occurrence strictly after `afterMillis` (epoch ms), in epoch ms; occurrences fall
    /// on whole seconds. Nil when the expression never matches again.
    public func next(afterMillis: Int64) -> Int64? {
        let after = afterMillis.floorDivided(by: 1_000) + 1
        var wall = after + Int64(zone.offsetSeconds(atEpochSeconds: after))
        // Each turn moves past one local time whose first instance lies before `after` (the
        // repeated hour after a backward jump): bounded by the matches of one such hour.
        for _ in 0..<4_000 {
            guard let match = expression.nextMatch(onOrAfter: wall) else { return nil }
            let instant = firstInstant(ofWall: match)
            if instant >= after { return instant * 1_000 }
            wall = match + 1
        }
        return nil
    }

    /// The first instant whose local time is `wall`, or, for a local time a forward jump skips,
    /// the instant of the jump.
    func firstInstant(ofWall wall: Int64) -> Int64 {
        // Zones change offset at most once within a couple of days; the offsets a day either side
        // are the two that can apply.
        let earlier = Int64(zone.offsetSeconds(atEpochSeconds: wall - 86_400))
        let later = Int64(zone.offsetSeconds(atEpochSeconds: wall + 86_400))
        let valid = [wall - earlier, wall - later].filter { $0 + Int64(zone.offsetSeconds(atEpochSeconds: $0)) == wall }
        if let first = valid.min() { return first }
        // Skipped: local time jumps over `wall` between these two instants; find the jump.
        var low = wall - later
        var high = wall - earlier
        if low > high { swap(&low, &high) }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if middle + Int64(zone.offsetSeconds(atEpochSeconds: middle)) >= wall { high = middle } else { low = middle }
        }
        return high
    }
}
