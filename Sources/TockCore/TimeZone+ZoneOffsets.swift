import Foundation

extension TimeZone: ZoneOffsets {
    public func offsetSeconds(atEpochSeconds seconds: Int64) -> Int {
        secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
