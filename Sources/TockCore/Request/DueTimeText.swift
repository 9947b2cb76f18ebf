/// Absolute due times written as text (`tock-at`): integer epoch milliseconds (`1795262400250`),
/// or an RFC 3339 date-time with a mandatory offset (`2026-11-21T12:00:00.250Z`,
/// `2026-11-21T13:00:00+01:00`).
///
/// Rules beyond the RFC 3339 grammar:
/// - surrounding ASCII whitespace is ignored, as `DurationText` does for `tock-delay`;
/// - the date/time separator is `T` or `t` (no space); the offset is `Z`, `z` or `±hh:mm`;
/// - the fraction has 1 to 9 digits, and one finer than a millisecond rounds UP, so a message
///   never fires before the instant written;
/// - second 60 is accepted only where a leap second can be, the last minute of a UTC day, and
///   reads as the next day's 00:00:00 (plus any fraction): epoch time has no leap seconds;
/// - instants before 1970-01-01T00:00:00Z (negative epoch milliseconds) are rejected, in both
///   forms; years run from 0000 to 9999 (proleptic Gregorian), so the result never overflows.
///
/// Parsing works on the UTF-8 bytes with no Foundation and no allocation: no locale, and cheap
/// enough for every request.
public enum DueTimeText {
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        /// Negative epoch milliseconds, or a date-time before 1970.
        case beforeEpoch
        /// Integer milliseconds beyond Int64.
        case overflow
        /// Neither integer milliseconds nor the RFC 3339 layout; says what was expected.
        case malformed(String)
        /// A field out of its range, e.g. "month 13".
        case outOfRange(String)

        public var description: String {
            switch self {
            case .empty: "it is empty"
            case .beforeEpoch: "it is before 1970-01-01T00:00:00Z (negative epoch milliseconds)"
            case .overflow: "it is too large for epoch milliseconds"
            case .malformed(let what): "it is neither integer epoch milliseconds nor RFC 3339 with an offset (\(what))"
            case .outOfRange(let what): "\(what) is out of range"
            }
        }
    }

    public static func parseMillis(_ text: String) throws(ParseError) -> Int64 {
        var text = text
        return try text.withUTF8 { parse($0) }.get()
    }

    public static func parseMillis(utf8 bytes: [UInt8]) throws(ParseError) -> Int64 {
        try bytes.withUnsafeBufferPointer { parse($0) }.get()
    }

    static func parse(_ raw: UnsafeBufferPointer<UInt8>) -> Result<Int64, ParseError> {
        var start = 0, end = raw.count
        while start < end && isASCIIWhitespace(raw[start]) { start += 1 }
        while end > start && isASCIIWhitespace(raw[end - 1]) { end -= 1 }
        guard start < end else { return .failure(.empty) }
        let text = UnsafeBufferPointer(rebasing: raw[start..<end])
        if text.allSatisfy(isDigit) { return parseInteger(text) }
        if text[0] == UInt8(ascii: "-") && text.count > 1 && text.dropFirst().allSatisfy(isDigit) {
            return .failure(.beforeEpoch)
        }
        return parseRFC3339(text)
    }

    private static func parseInteger(_ text: UnsafeBufferPointer<UInt8>) -> Result<Int64, ParseError> {
        var value: Int64 = 0
        for byte in text {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            if o1 || o2 { return .failure(.overflow) }
            value = sum
        }
        return .success(value)
    }

    // YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)
    private static func parseRFC3339(_ s: UnsafeBufferPointer<UInt8>) -> Result<Int64, ParseError> {
        func number(_ at: Int, _ width: Int) -> Int64? {
            guard at + width <= s.count else { return nil }
            var value: Int64 = 0
            for i in at..<(at + width) {
                guard isDigit(s[i]) else { return nil }
                value = value * 10 + Int64(s[i] &- UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ at: Int, _ expected: UInt8, or alternative: UInt8? = nil) -> Bool {
            at < s.count && (s[at] == expected || s[at] == alternative)
        }

        guard let year = number(0, 4), byte(4, UInt8(ascii: "-")),
            let month = number(5, 2), byte(7, UInt8(ascii: "-")),
            let day = number(8, 2)
        else { return .failure(.malformed("expected a date YYYY-MM-DD")) }
        guard byte(10, UInt8(ascii: "T"), or: UInt8(ascii: "t")) else {
            return .failure(.malformed("expected 'T' between date and time"))
        }
        guard let hour = number(11, 2), byte(13, UInt8(ascii: ":")),
            let minute = number(14, 2), byte(16, UInt8(ascii: ":")),
            let second = number(17, 2)
        else { return .failure(.malformed("expected a time hh:mm:ss")) }

        var i = 19
        var nanos: Int64 = 0
        if byte(i, UInt8(ascii: ".")) {
            i += 1
            var digits = 0
            while i < s.count && isDigit(s[i]) {
                digits += 1
                guard digits <= 9 else { return .failure(.malformed("a fraction of 1 to 9 digits")) }
                nanos = nanos * 10 + Int64(s[i] &- UInt8(ascii: "0"))
                i += 1
            }
            guard digits > 0 else { return .failure(.malformed("digits after the '.'")) }
            for _ in digits..<9 { nanos *= 10 }
        }

        var offsetSeconds: Int64 = 0
        if byte(i, UInt8(ascii: "Z"), or: UInt8(ascii: "z")) {
            i += 1
        } else if byte(i, UInt8(ascii: "+"), or: UInt8(ascii: "-")) {
            let sign: Int64 = s[i] == UInt8(ascii: "-") ? -1 : 1
            guard let offsetHour = number(i + 1, 2), byte(i + 3, UInt8(ascii: ":")),
                let offsetMinute = number(i + 4, 2)
            else {
                return .failure(.malformed("expected an offset Z or ±hh:mm"))
            }
            guard offsetHour <= 23 else { return .failure(.outOfRange("offset hour \(offsetHour)")) }
            guard offsetMinute <= 59 else { return .failure(.outOfRange("offset minute \(offsetMinute)")) }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
            i += 6
        } else {
            return .failure(.malformed("expected an offset Z or ±hh:mm"))
        }
        guard i == s.count else { return .failure(.malformed("unexpected text after the offset")) }

        guard (1...12).contains(month) else { return .failure(.outOfRange("month \(month)")) }
        guard (1...daysInMonth(year: year, month: month)).contains(day) else {
            return .failure(.outOfRange("day \(day) of month \(month) in \(year)"))
        }
        guard hour <= 23 else { return .failure(.outOfRange("hour \(hour)")) }
        guard minute <= 59 else { return .failure(.outOfRange("minute \(minute)")) }
        guard second <= 60 else { return .failure(.outOfRange("second \(second)")) }

        let secondsOfDay = hour * 3600 + minute * 60 + second
        if second == 60 {
            // The :59 before it must be 23:59:59 in UTC.
            let utcSecondOfDay = ((secondsOfDay - 1 - offsetSeconds) % 86_400 + 86_400) % 86_400
            guard utcSecondOfDay == 86_399 else {
                return .failure(.outOfRange("second 60 (allowed only as 23:59:60 UTC)"))
            }
        }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + secondsOfDay - offsetSeconds
        let millis = seconds * 1000 + (nanos + 999_999) / 1_000_000
        guard millis >= 0 else { return .failure(.beforeEpoch) }
        return .success(millis)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func isLeapYear(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }
}
