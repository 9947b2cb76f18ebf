import Testing

@testable import TockCore

@Suite("Due time text (tock-at)")
struct DueTimeTextTests {
    /// 2026-11-21T12:00:00Z.
    static let noon: Int64 = 1_795_262_400_000

    @Test(
        "integer epoch milliseconds, surrounding whitespace ignored",
        arguments: [
            ("0", 0), ("1795262400250", 1_795_262_400_250), ("007", 7), (" 1795262400000\t", 1_795_262_400_000),
            ("9223372036854775807", Int64.max),
        ] as [(String, Int64)])
    func integerMillis(text: String, millis: Int64) throws {
        #expect(try DueTimeText.parseMillis(text) == millis)
    }

    @Test(
        "RFC 3339 with Z, z, lowercase t, +01:00, -05:30 and -00:00 name the same instant",
        arguments: [
            "2026-11-21T12:00:00Z", "2026-11-21t12:00:00z", "2026-11-21T13:00:00+01:00",
            "2026-11-21T06:30:00-05:30", "2026-11-21T12:00:00-00:00", "2026-11-22T11:59:00+23:59",
        ])
    func rfc3339Offsets(text: String) throws {
        #expect(try DueTimeText.parseMillis(text) == Self.noon)
    }

    @Test(
        "fractions of 1, 3, 6 and 9 digits; anything finer than a millisecond rounds up",
        arguments: [
            ("2026-11-21T12:00:00.2Z", 200), ("2026-11-21T12:00:00.250Z", 250),
            ("2026-11-21T12:00:00.250000Z", 250), ("2026-11-21T12:00:00.250001Z", 251),
            ("2026-11-21T12:00:00.250000000Z", 250), ("2026-11-21T12:00:00.000000001Z", 1),
            ("2026-11-21T12:00:00.999999999Z", 1_000), ("2026-11-21T13:00:00.0001+01:00", 1),
        ] as [(String, Int64)])
    func fractions(text: String, extraMillis: Int64) throws {
        #expect(try DueTimeText.parseMillis(text) == Self.noon + extraMillis)
    }

    @Test("the epoch itself and the last representable instant")
    func bounds() throws {
        #expect(try DueTimeText.parseMillis("1970-01-01T00:00:00Z") == 0)
        #expect(try DueTimeText.parseMillis("1970-01-01T01:00:00+01:00") == 0)
        #expect(try DueTimeText.parseMillis("9999-12-31T23:59:59.999Z") == 253_402_300_799_999)
    }

    @Test("leap years: 2024-02-29 and 2000-02-29 exist; 2025-02-29 and 2100-02-29 do not")
    func leapYears() throws {
        #expect(try DueTimeText.parseMillis("2024-02-29T00:00:00Z") == 1_709_164_800_000)
        #expect(try DueTimeText.parseMillis("2000-02-29T00:00:00Z") == 951_782_400_000)
        #expect(throws: DueTimeText.ParseError.outOfRange("day 29 of month 2 in 2025")) {
            try DueTimeText.parseMillis("2025-02-29T00:00:00Z")
        }
        #expect(throws: DueTimeText.ParseError.self) { try DueTimeText.parseMillis("2100-02-29T00:00:00Z") }
    }

    @Test("second 60 at the end of a UTC day reads as the next day's 00:00:00; elsewhere it is rejected")
    func leapSecond() throws {
        let newYear2017: Int64 = 1_483_228_800_000
        #expect(try DueTimeText.parseMillis("2016-12-31T23:59:60Z") == newYear2017)
        #expect(try DueTimeText.parseMillis("2017-01-01T00:59:60.5+01:00") == newYear2017 + 500)
        #expect(try DueTimeText.parseMillis("2016-12-31T18:29:60-05:30") == newYear2017)
        #expect(throws: DueTimeText.ParseError.self) { try DueTimeText.parseMillis("2016-12-31T12:59:60Z") }
        #expect(throws: DueTimeText.ParseError.self) { try DueTimeText.parseMillis("2016-12-31T23:59:60+01:00") }
    }

    @Test("days-from-civil counts every day from 1970 to 2400 once, in order")
    func daysFromCivilIsContinuous() {
        var expected: Int64 = 0
        for year: Int64 in 1970...2400 {
            for month: Int64 in 1...12 {
                for day in 1...DueTimeText.daysInMonth(year: year, month: month) {
                    if DueTimeText.daysFromCivil(year: year, month: month, day: day) != expected {
                        Issue.record("\(year)-\(month)-\(day)")
                        return
                    }
                    expected += 1
                }
            }
        }
        #expect(DueTimeText.daysFromCivil(year: 0, month: 1, day: 1) == -719_528)
    }

    @Test(
        "negative epoch milliseconds and instants before 1970 are rejected",
        arguments: [
            "-1", "-1795262400000", "1969-12-31T23:59:59.999Z", "1970-01-01T00:59:59+01:00", "0000-01-01T00:00:00Z",
        ])
    func beforeEpoch(text: String) {
        #expect(throws: DueTimeText.ParseError.beforeEpoch) { try DueTimeText.parseMillis(text) }
    }

    @Test("an integer beyond Int64 overflows")
    func overflow() {
        #expect(throws: DueTimeText.ParseError.overflow) { try DueTimeText.parseMillis("9223372036854775808") }
    }

    @Test("empty text is rejected", arguments: ["", "   "])
    func empty(text: String) {
        #expect(throws: DueTimeText.ParseError.empty) { try DueTimeText.parseMillis(text) }
    }

    @Test(
        "malformed layouts are rejected",
        arguments: [
            "2026-11-21T12:00:00", "2026-11-21 12:00:00Z", "2026-11-21T12:00Z", "2026-11-21", "2026-1-21T12:00:00Z",
            "2026-11-21T12:00:00.Z", "2026-11-21T12:00:00.1234567891Z", "2026-11-21T12:00:00+01", "2026-11-21T12:00:00+0100",
            "2026-11-21T12:00:00Zx", "2026-11-21T12:00:00+01:00:00", "+1795262400000", "1.5", "0x10", "30s", "now",
            "2026-11-21T12:00:00,5Z", "２026-11-21T12:00:00Z", "26-11-21T12:00:00Z",
        ])
    func malformed(text: String) {
        let error = #expect(throws: DueTimeText.ParseError.self) { try DueTimeText.parseMillis(text) }
        if case .malformed = error {} else { Issue.record("\(String(describing: error))") }
    }

    @Test(
        "fields out of range are rejected",
        arguments: [
            "2026-00-21T12:00:00Z", "2026-13-21T12:00:00Z", "2026-11-00T12:00:00Z", "2026-01-32T12:00:00Z",
            "2026-04-31T12:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T12:60:00Z", "2026-11-21T12:00:61Z",
            "2026-11-21T12:00:00+24:00", "2026-11-21T12:00:00+01:60",
        ])
    func outOfRange(text: String) {
        let error = #expect(throws: DueTimeText.ParseError.self) { try DueTimeText.parseMillis(text) }
        if case .outOfRange = error {} else { Issue.record("\(String(describing: error))") }
    }

    @Test("the byte form agrees with the string form, and invalid UTF-8 is malformed")
    func bytes() throws {
        #expect(try DueTimeText.parseMillis(utf8: Array("2026-11-21T12:00:00Z".utf8)) == Self.noon)
        #expect(throws: DueTimeText.ParseError.self) { try DueTimeText.parseMillis(utf8: [0x31, 0xFF, 0x32]) }
    }
}
