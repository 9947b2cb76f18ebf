/// Durations written as text: integer milliseconds (`250`) or a number with a unit
/// (`250ms`, `30s`, `5m`, `2h`, `7d`). Used by `tock-delay` and by configuration values.
public enum DurationText {
    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case invalid(String)
        case negative(String)
        case overflow(String)
    }

    private static let units: [(suffix: String, millis: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Parses `text` into milliseconds.
    public static func parseMillis(_ text: String) throws(ParseError) -> Int64 {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        if trimmed.hasPrefix("-") { throw .negative(text) }
        // "ms" must be tried before "m" and "s".
        var number = Substring(trimmed)
        var multiplier: Int64 = 1
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            multiplier = unit.millis
            break
        }
        guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .invalid(text) }
        guard let value = Int64(number) else { throw .overflow(text) }
        let (millis, overflow) = value.multipliedReportingOverflow(by: multiplier)
        if overflow { throw .overflow(text) }
        return millis
    }

    /// The shortest exact text for `millis` (`90000` → `90s`), for logs and generated docs.
    public static func format(millis: Int64) -> String {
        for unit in units.reversed() where millis != 0 && millis % unit.millis == 0 {
            return "\(millis / unit.millis)\(unit.suffix)"
        }
        return "\(millis)ms"
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
