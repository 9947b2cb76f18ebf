import Foundation
import Testing

@testable import TockCore

/// `tock-cron` parsing and its occurrences across DST transitions, against the system's tz
/// database (expected instants checked with Python's zoneinfo).
@Suite struct CronScheduleTests {
    static func ms(_ text: String) -> Int64 { try! DueTimeText.parseMillis(text) }

    static func schedule(_ expression: String, _ zone: String = "UTC") throws -> CronSchedule {
        CronSchedule(try CronExpression(expression), zone: try #require(TimeZone(identifier: zone)))
    }

    /// The next `count` occurrences after `after`, as RFC 3339 UTC text.
    static func occurrences(_ expression: String, _ zone: String = "UTC", after: String, count: Int) throws -> [String] {
        let schedule = try schedule(expression, zone)
        var result: [String] = []
        var cursor = ms(after)
        for _ in 0..<count {
            guard let next = schedule.next(afterMillis: cursor) else { break }
            result.append(Self.text(next))
            cursor = next
        }
        return result
    }

    /// Expects the next occurrences after `after` to be `expected`, as many as it lists.
    static func expectOccurrences(
        _ expression: String, _ zone: String = "UTC", after: String, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try occurrences(expression, zone, after: after, count: expected.count) == expected, sourceLocation: sourceLocation)
    }

    static func text(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(millis) / 1_000))
    }

    // MARK: Parsing

    @Test("fields, lists, ranges, steps, names and macros")
    func parses() throws {
        try Self.expectOccurrences(
            "*/15 * * * *", after: "2026-01-01T10:07:00Z", ["2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:45:00Z"])
        // 2026-06-05 is a Friday.
        try Self.expectOccurrences(
            "0 9-17/4 * * MON-FRI", after: "2026-06-05T12:00:00Z",
            ["2026-06-05T13:00:00Z", "2026-06-05T17:00:00Z", "2026-06-08T09:00:00Z", "2026-06-08T13:00:00Z"])
        try Self.expectOccurrences("0 0 1 jan,Jul *", after: "2026-03-01T00:00:00Z", ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"])
        try Self.expectOccurrences(
            "5/20 * * * *", after: "2026-01-01T00:00:00Z", ["2026-01-01T00:05:00Z", "2026-01-01T00:25:00Z", "2026-01-01T00:45:00Z"])
        try Self.expectOccurrences("0 0 * * 7", after: "2026-06-01T00:00:00Z", ["2026-06-07T00:00:00Z"])  // 7 is Sunday
        try Self.expectOccurrences("@hourly", after: "2026-01-01T10:07:00Z", ["2026-01-01T11:00:00Z"])
        try Self.expectOccurrences("@daily", after: "2026-01-01T10:07:00Z", ["2026-01-02T00:00:00Z"])
        try Self.expectOccurrences("@weekly", after: "2026-06-01T00:00:00Z", ["2026-06-07T00:00:00Z"])
        try Self.expectOccurrences("@monthly", after: "2026-06-01T00:00:00Z", ["2026-07-01T00:00:00Z"])
        try Self.expectOccurrences("@yearly", after: "2026-06-01T00:00:00Z", ["2027-01-01T00:00:00Z"])
    }

    @Test("six fields put seconds first; occurrences are strictly after the given instant")
    func seconds() throws {
        try Self.expectOccurrences(
            "*/2 * * * * *", after: "2026-01-01T00:00:00.500Z", ["2026-01-01T00:00:02Z", "2026-01-01T00:00:04Z", "2026-01-01T00:00:06Z"])
        try Self.expectOccurrences("*/2 * * * * *", after: "2026-01-01T00:00:02Z", ["2026-01-01T00:00:04Z"])
    }

    @Test("both day fields restricted: either fires (Vixie cron); one restricted: it alone decides")
    func vixieDays() throws {
        // 2026-07-01 is a Wednesday.
        try Self.expectOccurrences(
            "0 0 1 * MON", after: "2026-06-20T00:00:00Z",
            ["2026-06-22T00:00:00Z", "2026-06-29T00:00:00Z", "2026-07-01T00:00:00Z", "2026-07-06T00:00:00Z"])
        try Self.expectOccurrences("0 0 * * MON", after: "2026-06-20T00:00:00Z", ["2026-06-22T00:00:00Z", "2026-06-29T00:00:00Z"])
        try Self.expectOccurrences("0 0 1 * *", after: "2026-06-20T00:00:00Z", ["2026-07-01T00:00:00Z"])
    }

    @Test("months without a 31st are skipped; a leap day waits for a leap year")
    func shortMonthsAndLeapDays() throws {
        try Self.expectOccurrences(
            "0 0 31 * *", after: "2026-04-01T00:00:00Z", ["2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"])
        try Self.expectOccurrences("0 0 29 2 *", after: "2026-01-01T00:00:00Z", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        // Feb 29, or any Monday in February.
        try Self.expectOccurrences("0 12 29 2 1", after: "2026-01-01T00:00:00Z", ["2026-02-02T12:00:00Z", "2026-02-09T12:00:00Z"])
    }

    @Test(
        "bad expressions are refused with a reason",
        arguments: [
            "", "* * * *", "* * * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8",
            "*/0 * * * *", "5-1 * * * *", "1,,2 * * * *", "* * * FOO *", "@reboot", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "a b c d e",
        ])
    func refuses(expression: String) {
        #expect(throws: CronExpression.ParseError.self) { _ = try CronExpression(expression) }
    }

    @Test(
        "each refusal names the field and the item at fault and says what is wrong with it (never an empty token)",
        arguments: [
            ("-1 * * * *", #"minute "-1": a range needs a value on each side of "-" (values are never negative)"#),
            ("1- * * * *", #"minute "1-": a range needs a value on each side of "-""#),
            ("0 -5 * * *", #"hour "-5": a range needs a value on each side of "-" (values are never negative)"#),
            ("1-2-3 * * * *", #"minute "1-2-3": a range has one "-", this has 2"#),
            (",5 * * * *", #"minute ",5": an empty item in the list (a comma at either end, or two in a row)"#),
            ("5, * * * *", #"minute "5,": an empty item in the list (a comma at either end, or two in a row)"#),
            ("1,,2 * * * *", #"minute "1,,2": an empty item in the list (a comma at either end, or two in a row)"#),
            ("*/0 * * * *", #"minute "*/0": the step "0" is not a whole number of at least 1"#),
            ("*/-2 * * * *", #"minute "*/-2": the step "-2" is not a whole number of at least 1"#),
            ("*/ * * * *", #"minute "*/": the step after "/" is missing"#),
            ("/5 * * * *", #"minute "/5": a step needs "*", a value or a range before "/""#),
            ("1/2/3 * * * *", #"minute "1/2/3": an item has one "/", this has 2"#),
            ("5-1 * * * *", #"minute "5-1": the range runs backwards (5 is after 1)"#),
            ("60 * * * *", #"minute "60": "60" is not a number in 0-59"#),
            ("+5 * * * *", #"minute "+5": "+5" is not a number in 0-59"#),
            ("0 0 * FOO *", #"month "FOO": "FOO" is not a number in 1-12 or a name JAN…DEC"#),
            ("0 0 * * MON-FOO", #"day of week "MON-FOO": "FOO" is not a number in 0-7 or a name SUN…SAT"#),
            ("0 0 0 * *", #"day of month "0": "0" is not a number in 1-31"#),
            ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 4"),
            ("@reboot", #"unknown macro "@reboot""#),
            ("0 0 30 2 *", #""0 0 30 2 *" can never match: no month has such a day"#),
        ])
    func refusalDetail(expression: String, detail: String) {
        #expect(throws: CronExpression.ParseError(description: detail)) { _ = try CronExpression(expression) }
    }

    @Test("the bad-cron detail of a request quotes the expression and then the item at fault")
    func badCronDetail() {
        let definition = SeriesDefinition(cron: "-1 * * * *", everyMillis: nil, startMillis: 0)
        #expect(
            throws: RequestRejection(
                code: .badCron, detail: #"tock-cron "-1 * * * *": minute "-1": a range needs a value on each side of "-" (values are never negative)"#
            )
        ) {
            _ = try definition.recurrence()
        }
    }

    // MARK: Daylight saving

    @Test("Europe/Berlin: a skipped 02:30 fires at the jump (03:00 CEST); a repeated one fires once, at its first instance")
    func berlin() throws {
        try Self.expectOccurrences("30 2 * * *", "Europe/Berlin", after: "2026-03-28T12:00:00Z", ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        try Self.expectOccurrences("30 2 * * *", "Europe/Berlin", after: "2026-10-24T12:00:00Z", ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        // Every half hour through the repeated hour: its second pass fires nothing.
        try Self.expectOccurrences(
            "*/30 * * * *", "Europe/Berlin", after: "2026-10-24T23:45:00Z",
            ["2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z"])
        // Every minute through the skipped hour: one occurrence at the jump, then on.
        try Self.expectOccurrences(
            "* * * * *", "Europe/Berlin", after: "2026-03-29T00:58:30Z", ["2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:01:00Z"])
    }

    @Test("America/New_York: 02:30 skipped in March fires at 03:00 EDT; 01:30 repeated in November fires once (EDT)")
    func newYork() throws {
        try Self.expectOccurrences("30 2 * * *", "America/New_York", after: "2026-03-07T12:00:00Z", ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"])
        try Self.expectOccurrences("30 1 * * *", "America/New_York", after: "2026-10-31T12:00:00Z", ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
    }

    @Test("Australia/Lord_Howe's 30-minute shift: 02:15 skipped fires at 02:30 (+11); 01:45 repeated fires once (+11)")
    func lordHowe() throws {
        try Self.expectOccurrences(
            "15 2 * * *", "Australia/Lord_Howe", after: "2026-10-03T00:00:00Z", ["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"])
        try Self.expectOccurrences(
            "45 1 * * *", "Australia/Lord_Howe", after: "2026-04-04T00:00:00Z", ["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"])
    }

    @Test(":45 offsets: Pacific/Chatham's skipped 03:00 fires at 03:45 (+13:45); Asia/Kathmandu's 09:00 is 03:15 UTC")
    func quarterHourOffsets() throws {
        try Self.expectOccurrences("0 3 * * *", "Pacific/Chatham", after: "2026-09-26T00:00:00Z", ["2026-09-26T14:00:00Z"])
        try Self.expectOccurrences("0 9 * * *", "Asia/Kathmandu", after: "2026-01-01T00:00:00Z", ["2026-01-01T03:15:00Z"])
    }

    @Test("occurrences never repeat and never go back, across a year of DST in three zones")
    func monotonic() throws {
        for zone in ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"] {
            let schedule = try Self.schedule("*/20 * * * *", zone)
            var cursor = Self.ms("2026-01-01T00:00:00Z")
            for _ in 0..<(3 * 24 * 366) {
                let next = try #require(schedule.next(afterMillis: cursor))
                #expect(next > cursor)
                cursor = next
            }
        }
    }
}
