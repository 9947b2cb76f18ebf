/// A proleptic Gregorian date and time of day, normalized from possibly overflowing parts (day
/// 32, hour 24, month 13), and its wall-clock seconds since 1970-01-01T00:00. Howard Hinnant's
/// days-from-civil arithmetic: no calendar library, no time zone.
struct CivilDate: Sendable, Hashable {
    let year: Int
    let month: Int
    let day: Int
    let hour: Int
    let minute: Int
    let second: Int

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        let months = year * 12 + (month - 1)
        let (y, m) = (months.floorDivided(by: 12), months.floorModulo(12) + 1)
        self.init(
            wallSeconds: Int64(Self.daysFromCivil(year: y, month: m, day: 1) + (day - 1)) * 86_400
                + Int64(hour) * 3_600 + Int64(minute) * 60 + Int64(second))
    }

    init(wallSeconds: Int64) {
        let days = Int(wallSeconds.floorDivided(by: 86_400))
        let secondOfDay = Int(wallSeconds.floorModulo(86_400))
        (year, month, day) = Self.civilFromDays(days)
        hour = secondOfDay / 3_600
        minute = secondOfDay % 3_600 / 60
        second = secondOfDay % 60
    }

    var wallSeconds: Int64 {
        Int64(Self.daysFromCivil(year: year, month: month, day: day)) * 86_400 + Int64(hour * 3_600 + minute * 60 + second)
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 0 = Sunday.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        // 1970-01-01 was a Thursday.
        (daysFromCivil(year: year, month: month, day: day) + 4).floorModulo(7)
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension BinaryInteger {
    func floorDivided(by divisor: Self) -> Self {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    func floorModulo(_ divisor: Self) -> Self { self - floorDivided(by: divisor) * divisor }
}
