import Foundation

extension TimeZone: ZoneOffsets {
    public func offsetSeconds(atEpochSeconds seconds: Int64) -> Int {
        secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

/// `tock-tz` names to zones: every name of the tz database (SPEC: "IANA time zone"), and nothing
/// else. Foundation (ICU) also takes abbreviations and offsets that the tz database does not
/// have: `PST`, `IST`, `BST` (which ICU reads as Bangladesh), `GMT+1`, `UTC+1`. A name with a
/// "/" (`Europe/Berlin`, `Etc/GMT+5`, `US/Eastern`) is an area/location name and is taken when
/// Foundation knows it; one without (`Japan`, `EST5EDT`, `UTC`) must be one of the tz database's
/// own.
public enum TimeZoneLookup {
    public static func zone(_ identifier: String) -> (any ZoneOffsets)? {
        guard identifier.contains("/") || namesWithoutArea.contains(identifier) else { return nil }
        return TimeZone(identifier: identifier)
    }

    /// The tz database's names without a "/": its own list (tzdata 2025b: Zone and Link lines of
    /// `tzdata.zi`, from the files `northamerica`, `europe`, `etcetera` and `backward`), so that a
    /// host without tzdata reads them the same, and whatever Foundation lists besides.
    static let namesWithoutArea: Set<String> = {
        var names: Set<String> = [
            "CET", "CST6CDT", "Cuba", "EET", "EST", "EST5EDT", "Egypt", "Eire", "Factory", "GB", "GB-Eire", "GMT", "GMT+0", "GMT-0",
            "GMT0", "Greenwich", "HST", "Hongkong", "Iceland", "Iran", "Israel", "Jamaica", "Japan", "Kwajalein", "Libya", "MET", "MST",
            "MST7MDT", "NZ", "NZ-CHAT", "Navajo", "PRC", "PST8PDT", "Poland", "Portugal", "ROC", "ROK", "Singapore", "Turkey", "UCT", "UTC",
            "Universal", "W-SU", "WET", "Zulu",
        ]
        names.formUnion(TimeZone.knownTimeZoneIdentifiers.filter { !$0.contains("/") })
        return names
    }()
}
