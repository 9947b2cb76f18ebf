import Testing

@testable import TockCore

@Suite("Duration text")
struct DurationTextTests {
    @Test(
        "integer milliseconds and every unit",
        arguments: [
            ("250", 250), ("0", 0), ("250ms", 250), ("30s", 30_000), ("5m", 300_000),
            ("2h", 7_200_000), ("7d", 604_800_000), (" 15s ", 15_000),
        ] as [(String, Int64)])
    func parses(text: String, millis: Int64) throws {
        #expect(try DurationText.parseMillis(text) == millis)
    }

    @Test("bad forms are rejected", arguments: ["", "s", "1.5s", "-5s", "5 s", "5w", "ms5", "99999999999999999999", "9223372036854775807d"])
    func rejects(text: String) {
        #expect(throws: DurationText.ParseError.self) { try DurationText.parseMillis(text) }
    }

    @Test("format picks the largest exact unit")
    func format() {
        #expect(DurationText.format(millis: 90_000) == "90s")
        #expect(DurationText.format(millis: 3_600_000) == "1h")
        #expect(DurationText.format(millis: 1_500) == "1500ms")
        #expect(DurationText.format(millis: 0) == "0ms")
    }
}
