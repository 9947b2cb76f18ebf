/// The recurring-schedule headers of a request (SPEC "Recurring schedules") read into a
/// `SeriesDefinition` and its first occurrence, or the one reason they are refused: `bad-cron`, `bad-timezone` or
/// `bad-recurrence`. Each argument is a header's value, nil when the header is absent.
public enum RecurrenceText {
    /// Nil when the request names no series (neither `tock-cron` nor `tock-every`, and none of
    /// the other series headers). `startMillis`: the first occurrence of an interval series, the
    /// earliest time of a cron series, from `tock-at`/`tock-delay`; `startIsRequestTime` when
    /// neither was given and it is the request's timestamp: an interval series then starts one
    /// interval later. `notBeforeMillis` is the request's timestamp: no occurrence due before it
    /// is ever published (SPEC v3), so the first occurrence is the first at or after it (on the
    /// phase `startMillis` gives an interval series), and the definition starts there: a
    /// `tock-at` in the past sets only the phase. `zones` looks a `tock-tz` up (Foundation's
    /// `TimeZone` by default).
    public static func parse(
        cron: String?, every: String?, tz: String?, until: String?, count: String?, catchup: String?,
        startMillis: Int64, startIsRequestTime: Bool = false, notBeforeMillis: Int64 = .min,
        zones: (String) -> (any ZoneOffsets)? = { TimeZoneLookup.zone($0) }
    ) throws(RequestRejection) -> (definition: SeriesDefinition, firstMillis: Int64)? {
        func bad(_ detail: String) -> RequestRejection { RequestRejection(code: .badRecurrence, detail: detail) }
        guard cron != nil || every != nil else {
            if let header = [("tock-tz", tz), ("tock-until", until), ("tock-count", count), ("tock-catchup", catchup)].first(where: { $0.1 != nil }) {
                throw bad("\(header.0) needs tock-cron or tock-every")
            }
            return nil
        }
        if cron != nil && every != nil { throw bad("a series has tock-cron or tock-every, not both") }

        var untilMillis: Int64?
        if let until {
            do { untilMillis = try DueTimeText.parseMillis(until) } catch { throw bad("tock-until \"\(until)\" is not a time: \(error)") }
        }
        var countLimit: Int?
        if let count {
            guard let value = Int(count.trimmingASCIIWhitespace()), value >= 1 else {
                throw bad("tock-count \"\(count)\" is not a whole number of at least 1")
            }
            countLimit = value
        }
        var mode = Recurrence.Catchup.all
        if let catchup {
            guard let value = Recurrence.Catchup(rawValue: catchup) else { throw bad("tock-catchup \"\(catchup)\" is not all, latest or none") }
            mode = value
        }

        var definition = SeriesDefinition(
            cron: nil, everyMillis: nil, startMillis: startMillis, untilMillis: untilMillis,
            count: countLimit, catchup: mode)
        if let every {
            let interval: Int64
            do { interval = try DurationText.parseMillis(every) } catch { throw bad("tock-every \"\(every)\" is not a duration: \(error)") }
            guard interval >= 1_000 else { throw bad("tock-every \"\(every)\" is shorter than 1s") }
            definition.everyMillis = interval
            if startIsRequestTime { definition.startMillis += interval }
        } else {
            definition.cron = cron!.trimmingASCIIWhitespace()
            definition.timeZone = tz?.trimmingASCIIWhitespace() ?? "UTC"
        }
        guard let first = try definition.recurrence(zones: zones).first(notBefore: notBeforeMillis) else {
            throw bad(
                notBeforeMillis > definition.startMillis
                    ? "the series has no occurrence left at or after the request's timestamp (\(notBeforeMillis))"
                    : "the series has no occurrence left")
        }
        // Stored from its first occurrence on: a worker never computes one before it.
        definition.startMillis = first
        return (definition, first)
    }
}
