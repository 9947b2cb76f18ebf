import Foundation

extension TimeZone: ZoneOffsets {
    public func offsetSeconds(atEpochSeconds seconds: Int64) -> Int {
        secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

/// `tock-tz` names to zones, from the system's tz database.
public enum TimeZoneLookup {
    public static func zone(_ identifier: String) -> (any ZoneOffsets)? {
        // Foundation also accepts abbreviations ("EST") and offsets ("GMT+1"); SPEC asks for IANA
        // names, which have a "/" or are UTC/GMT.
        guard identifier.contains("/") || identifier == "UTC" || identifier == "GMT" else { return nil }
        return TimeZone(identifier: identifier)
    }
}
