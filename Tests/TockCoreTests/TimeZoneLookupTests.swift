import Foundation
import Testing

@testable import TockCore

/// `tock-tz` takes every name of the tz database (SPEC: "IANA time zone"), those without a "/"
/// too, and nothing else: no abbreviations or offsets that only ICU knows.
@Suite struct TimeZoneLookupTests {
    /// Every Zone and Link name of the system's tz database (`scripts/setup` installs tzdata).
    static func systemNames() throws -> [String] {
        let text = try String(contentsOfFile: "/usr/share/zoneinfo/tzdata.zi", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            switch fields.first {
            case "Z": return fields.count > 1 ? String(fields[1]) : nil
            case "L": return fields.count > 2 ? String(fields[2]) : nil
            default: return nil
            }
        }
    }

    @Test("every Zone and Link name of /usr/share/zoneinfo/tzdata.zi is accepted, those without a \"/\" too")
    func everyDatabaseName() throws {
        let names = try Self.systemNames()
        #expect(names.count > 500)
        let refused = names.filter { TimeZoneLookup.zone($0) == nil }
        #expect(refused.isEmpty, "refused: \(refused)")
        print("[tz] \(names.count) tz database names, \(names.filter { !$0.contains("/") }.count) without a \"/\"; refused \(refused.count)")
    }

    @Test(
        "names without a \"/\" read as the tz database defines them",
        arguments: [
            // 2026-07-01T00:00:00Z: summer in the north.
            ("Japan", 9 * 3_600), ("EST5EDT", -4 * 3_600), ("UTC", 0), ("GMT", 0), ("Zulu", 0), ("Etc/GMT+5", -5 * 3_600),
            ("EST", -5 * 3_600), ("PRC", 8 * 3_600), ("Factory", 0), ("US/Eastern", -4 * 3_600), ("Asia/Kolkata", 19_800),
        ])
    func offsets(name: String, seconds: Int) throws {
        let zone = try #require(TimeZoneLookup.zone(name))
        #expect(zone.offsetSeconds(atEpochSeconds: 1_782_864_000) == seconds)
    }

    @Test(
        "abbreviations, offsets and names the tz database does not have are refused",
        arguments: [
            "PST", "IST", "JST", "BST", "CST", "EDT", "CEST", "GMT+1", "UTC+1", "GMT+0100", "+01:00", "Foo", "Foo/Bar", "america/new_york",
            "japan", "", " Japan", "Japan ", "posixrules", "localtime", "zone.tab", "right/UTC", "posix/Japan", "../Japan", "Etc/Unknown",
        ])
    func refuses(name: String) {
        #expect(TimeZoneLookup.zone(name) == nil)
    }

    @Test("a series with tock-tz Japan is accepted; PST is bad-timezone, naming the value")
    func requests() throws {
        let parser = RequestParser(maxPayloadBytes: 16, maxHorizonMillis: 730 * 86_400_000, allowedTopics: ["*"])
        func parse(_ tz: String) -> Result<ParsedRequest, RequestRejection> {
            let headers = [("tock-topic", "out"), ("tock-cron", "0 10 * * *"), ("tock-tz", tz)].map { RecordHeader(key: $0.0, text: $0.1) }
            let record = InputRecord(topic: "in", partition: 0, offset: 1, timestampMillis: 1_782_864_000_000, key: nil, value: [], headers: headers)
            return parser.parse(record, nowMillis: 1_782_864_000_000)
        }
        // 10:00 in Japan is 01:00 UTC.
        guard case .success(.schedule(let message)) = parse("Japan") else {
            Issue.record("Japan: \(parse("Japan"))")
            return
        }
        #expect(message.series?.timeZone == "Japan" && message.dueMillis == 1_782_864_000_000 + 3_600_000)
        guard case .failure(let rejection) = parse("PST") else {
            Issue.record("PST was accepted")
            return
        }
        #expect(rejection.code == .badTimezone && rejection.detail.contains("\"PST\""), "\(rejection)")
    }
}
