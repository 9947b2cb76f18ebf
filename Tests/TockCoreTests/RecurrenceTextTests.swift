import Testing

@testable import TockCore

/// The recurring-schedule headers, and every bad form refused with its code.
@Suite struct RecurrenceTextTests {
    static let start: Int64 = 1_796_000_000_000

    static func parse(
        cron: String? = nil, every: String? = nil, tz: String? = nil, until: String? = nil, count: String? = nil,
        catchup: String? = nil, startIsRequestTime: Bool = false
    ) throws(RequestRejection) -> SeriesDefinition? {
        try RecurrenceText.parse(
            cron: cron, every: every, tz: tz, until: until, count: count, catchup: catchup, startMillis: start,
            startIsRequestTime: startIsRequestTime)?.definition
    }

    static func code(
        cron: String? = nil, every: String? = nil, tz: String? = nil, until: String? = nil, count: String? = nil,
        catchup: String? = nil
    ) -> RejectionCode? {
        do throws(RequestRejection) {
            _ = try parse(cron: cron, every: every, tz: tz, until: until, count: count, catchup: catchup)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("no series headers: a single message")
    func none() throws {
        #expect(try Self.parse() == nil)
    }

    @Test("a series of each kind, with its ends and catch-up")
    func series() throws {
        let every = try #require(try Self.parse(every: "1s", count: "5", catchup: "latest"))
        #expect(every.count == 5 && every.catchup == .latest && every.startMillis == Self.start)
        #expect(try Self.parse(every: "15m", startIsRequestTime: true)?.startMillis == Self.start + 900_000)
        let cron = try #require(try Self.parse(cron: "0 9 * * MON-FRI", tz: "America/New_York", until: "2027-01-01T00:00:00Z"))
        #expect(cron.untilMillis == 1_798_761_600_000 && cron.catchup == .all)
        #expect(cron.cron == "0 9 * * MON-FRI" && cron.timeZone == "America/New_York")
        #expect(try cron.recurrence().first == 1_796_047_200_000)  // 2026-11-30 (a Monday) 09:00 in New York
    }

    @Test(
        "every bad form is refused with its code",
        arguments: [
            (RejectionCode.badRecurrence, "both kinds"), (.badRecurrence, "every too short"), (.badRecurrence, "every not a duration"),
            (.badRecurrence, "count 0"), (.badRecurrence, "count text"), (.badRecurrence, "until not a time"), (.badRecurrence, "catchup"),
            (.badRecurrence, "no occurrence left"), (.badRecurrence, "tz without a series"), (.badCron, "cron"), (.badCron, "never matches"),
            (.badTimezone, "unknown zone"), (.badTimezone, "abbreviation"),
        ])
    func refused(expected: RejectionCode, form: String) {
        let code: RejectionCode? =
            switch form {
            case "both kinds": Self.code(cron: "* * * * *", every: "1m")
            case "every too short": Self.code(every: "500ms")
            case "every not a duration": Self.code(every: "often")
            case "count 0": Self.code(every: "1s", count: "0")
            case "count text": Self.code(every: "1s", count: "five")
            case "until not a time": Self.code(every: "1s", until: "tomorrow")
            case "catchup": Self.code(every: "1s", catchup: "some")
            case "no occurrence left": Self.code(every: "1s", until: "1000")
            case "tz without a series": Self.code(tz: "Europe/Berlin")
            case "cron": Self.code(cron: "61 * * * *")
            case "never matches": Self.code(cron: "0 0 30 2 *")
            case "unknown zone": Self.code(cron: "* * * * *", tz: "Mars/Olympus_Mons")
            // Not "EST": the tz database has it (a fixed UTC-5). PST, IST, BST are ICU's, not the tz database's.
            default: Self.code(cron: "* * * * *", tz: "PST")
            }
        #expect(code == expected, "\(form)")
    }

    @Test(
        "issue 25 item 6b: a past start sets the phase only; the definition starts at its first occurrence at or after the request; tock-count counts from there"
    )
    func pastStart() throws {
        let request = Self.start + 300_000 + 40
        let parsed = try #require(
            try RecurrenceText.parse(
                cron: nil, every: "1s", tz: nil, until: nil, count: "3", catchup: nil, startMillis: Self.start + 337, notBeforeMillis: request))
        #expect(parsed.firstMillis == Self.start + 300_337 && parsed.definition.startMillis == Self.start + 300_337)
        #expect(parsed.definition.count == 3)
        let cron = try #require(
            try RecurrenceText.parse(
                cron: "* * * * * *", every: nil, tz: nil, until: nil, count: nil, catchup: nil, startMillis: Self.start, notBeforeMillis: request))
        #expect(cron.firstMillis == Self.start + 301_000)
        // A tock-until before the request leaves nothing: bad-recurrence, naming the request's timestamp.
        do throws(RequestRejection) {
            _ = try RecurrenceText.parse(
                cron: nil, every: "1s", tz: nil, until: String(request - 1), count: nil, catchup: nil, startMillis: Self.start,
                notBeforeMillis: request)
            Issue.record("expected bad-recurrence")
        } catch {
            #expect(error.code == .badRecurrence && error.detail.contains("request's timestamp"), "\(error.detail)")
        }
    }
}
