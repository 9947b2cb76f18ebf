/// A cron expression, as SPEC's `tock-cron` defines it: 5 fields (minute hour day-of-month month
/// day-of-week) or 6 (seconds first); `*`, lists, ranges, steps, month and weekday names, and the
/// `@yearly` `@monthly` `@weekly` `@daily` `@hourly` macros. When both day fields are restricted,
/// a day matching either fires (Vixie cron's rule).
///
/// Each field is a bit set; `nextMatch(onOrAfter:)` walks local wall-clock time (seconds since
/// 1970-01-01T00:00 in the zone's own reckoning) field by field, with no calendar library.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    public let text: String
    let seconds: UInt64
    let minutes: UInt64
    let hours: UInt32
    /// Bits 1...31.
    let daysOfMonth: UInt32
    /// Bits 1...12.
    let months: UInt16
    /// Bits 0...6, Sunday = 0.
    let daysOfWeek: UInt8
    let daysOfMonthRestricted: Bool
    let daysOfWeekRestricted: Bool

    public var description: String { text }

    private static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    private static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ text: String) throws(ParseError) {
        self.text = text
        let trimmed = text.trimmingASCIIWhitespace()
        var expanded = trimmed
        if trimmed.hasPrefix("@") {
            guard let macro = Self.macros[trimmed.lowercased()] else { throw ParseError(description: "unknown macro \"\(trimmed)\"") }
            expanded = macro
        }
        var fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 || fields.count == 6 else {
            throw ParseError(description: "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got \(fields.count)")
        }
        if fields.count == 5 { fields.insert("0", at: 0) }
        seconds = try Self.field(fields[0], name: "second", range: 0...59)
        minutes = try Self.field(fields[1], name: "minute", range: 0...59)
        hours = UInt32(try Self.field(fields[2], name: "hour", range: 0...23))
        daysOfMonth = UInt32(try Self.field(fields[3], name: "day of month", range: 1...31))
        months = UInt16(try Self.field(fields[4], name: "month", range: 1...12, names: Self.monthNames, firstName: 1))
        // 7 is Sunday too.
        let weekdays = try Self.field(fields[5], name: "day of week", range: 0...7, names: Self.dayNames, firstName: 0)
        daysOfWeek = UInt8((weekdays | (weekdays >> 7)) & 0x7F)
        daysOfMonthRestricted = !fields[3].hasPrefix("*")
        daysOfWeekRestricted = !fields[5].hasPrefix("*")
        guard canMatch else { throw ParseError(description: "\"\(text)\" can never match: no month has such a day") }
    }

    /// Whether some day can match at all (`0 0 30 2 *` cannot). A restricted day of week always
    /// can (by itself, or ORed with the day of month).
    private var canMatch: Bool {
        if daysOfWeekRestricted || !daysOfMonthRestricted { return true }
        for month in 1...12 where months & (1 << month) != 0 {
            let longest = month == 2 ? 29 : CivilDate.daysInMonth(year: 2001, month: month)
            if (1...longest).contains(where: { daysOfMonth & (1 << $0) != 0 }) { return true }
        }
        return false
    }

    /// One field's bit set. A refusal names the field and the item at fault (`minute "-1": …`),
    /// never a fragment of it: the detail of a `bad-cron` must point at what the user wrote.
    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0) throws(ParseError)
        -> UInt64
    {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            func refuse(_ problem: String) -> ParseError { ParseError(description: "\(name) \"\(item)\": \(problem)") }
            func value(_ token: Substring) throws(ParseError) -> Int {
                // Digits only: Int("+5") would take a sign that cron does not have.
                if token.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(token), range.contains(number) { return number }
                if let index = names.firstIndex(of: token.uppercased()) { return index + firstName }
                let spelled = names.isEmpty ? "" : " or a name \(names.first!)…\(names.last!)"
                throw refuse("\"\(token)\" is not a number in \(range.lowerBound)-\(range.upperBound)\(spelled)")
            }
            guard !item.isEmpty else {
                throw ParseError(description: "\(name) \"\(text)\": an empty item in the list (a comma at either end, or two in a row)")
            }
            let slashes = item.split(separator: "/", omittingEmptySubsequences: false)
            guard slashes.count <= 2 else { throw refuse("an item has one \"/\", this has \(slashes.count - 1)") }
            let base = slashes[0]
            var step = 1
            if slashes.count == 2 {
                let stepText = slashes[1]
                guard !base.isEmpty else { throw refuse("a step needs \"*\", a value or a range before \"/\"") }
                guard !stepText.isEmpty else { throw refuse("the step after \"/\" is missing") }
                guard stepText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let parsed = Int(stepText), parsed >= 1 else {
                    throw refuse("the step \"\(stepText)\" is not a whole number of at least 1")
                }
                step = parsed
            }
            var low: Int, high: Int
            let dashes = base.split(separator: "-", omittingEmptySubsequences: false)
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if dashes.count > 2 {
                throw refuse("a range has one \"-\", this has \(dashes.count - 1)")
            } else if dashes.count == 2 {
                guard !dashes[0].isEmpty && !dashes[1].isEmpty else {
                    let negative = dashes[0].isEmpty && !dashes[1].isEmpty
                    throw refuse("a range needs a value on each side of \"-\"\(negative ? " (values are never negative)" : "")")
                }
                low = try value(dashes[0])
                high = try value(dashes[1])
                guard low <= high else { throw refuse("the range runs backwards (\(dashes[0]) is after \(dashes[1]))") }
            } else {
                low = try value(base)
                // "5/15": from 5 to the end, as Vixie cron reads it.
                high = slashes.count == 2 ? range.upperBound : low
            }
            for bit in stride(from: low, through: high, by: step) { bits |= 1 << bit }
        }
        return bits
    }

    func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let byMonthDay = daysOfMonth & (1 << day) != 0
        let byWeekday = daysOfWeek & (1 << CivilDate.weekday(year: year, month: month, day: day)) != 0
        if daysOfMonthRestricted && daysOfWeekRestricted { return byMonthDay || byWeekday }
        return byMonthDay && byWeekday
    }

    /// The first local wall-clock second at or after `wall` that matches, or nil if none within
    /// 400 years (a leap day on a given weekday recurs within 28).
    public func nextMatch(onOrAfter wall: Int64) -> Int64? {
        var date = CivilDate(wallSeconds: wall)
        let lastYear = date.year + 400
        while date.year <= lastYear {
            if months & (1 << date.month) == 0 {
                date = CivilDate(year: date.year, month: date.month + 1, day: 1)
                continue
            }
            if !dayMatches(year: date.year, month: date.month, day: date.day) {
                date = CivilDate(year: date.year, month: date.month, day: date.day + 1)
                continue
            }
            guard let hour = Self.next(in: UInt64(hours), from: date.hour, through: 23) else {
                date = CivilDate(year: date.year, month: date.month, day: date.day + 1)
                continue
            }
            if hour != date.hour { date = CivilDate(year: date.year, month: date.month, day: date.day, hour: hour) }
            guard let minute = Self.next(in: minutes, from: date.minute, through: 59) else {
                date = CivilDate(year: date.year, month: date.month, day: date.day, hour: date.hour + 1)
                continue
            }
            if minute != date.minute { date = CivilDate(year: date.year, month: date.month, day: date.day, hour: date.hour, minute: minute) }
            guard let second = Self.next(in: seconds, from: date.second, through: 59) else {
                date = CivilDate(year: date.year, month: date.month, day: date.day, hour: date.hour, minute: date.minute + 1)
                continue
            }
            return CivilDate(year: date.year, month: date.month, day: date.day, hour: date.hour, minute: date.minute, second: second).wallSeconds
        }
        return nil
    }

    private static func next(in bits: UInt64, from start: Int, through last: Int) -> Int? {
        guard start <= last else { return nil }
        let remaining = bits >> start
        guard remaining != 0 else { return nil }
        let found = start + remaining.trailingZeroBitCount
        return found <= last ? found : nil
    }
}
