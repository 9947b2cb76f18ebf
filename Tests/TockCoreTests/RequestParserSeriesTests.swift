import Testing

@testable import TockCore

/// Series requests through the parser: their start, their first occurrence as the due time, the
/// horizon, and the order of their rejection codes.
@Suite("Request parser: series")
struct RequestParserSeriesTests {
    let base = RequestParserTests()
    typealias T = RequestParserTests

    func code(_ headers: [(String, String?)]) -> String? {
        if case .failure(let rejection) = base.parse(T.record(headers)) { return rejection.code.rawValue }
        return nil
    }

    @Test("tock-every without a time starts one interval after the record's timestamp; tock-at sets the first occurrence")
    func everyStart() throws {
        let plain = try #require(base.scheduled([("tock-topic", "out"), ("tock-every", "15m"), ("tock-count", "3")]))
        #expect(plain.dueMillis == T.stamp + 900_000)
        #expect(plain.series == SeriesDefinition(cron: nil, everyMillis: 900_000, startMillis: T.stamp + 900_000, count: 3))
        let at = try #require(
            base.scheduled([("tock-topic", "out"), ("tock-every", "1s"), ("tock-at", String(T.now + 5)), ("tock-catchup", "none")]))
        #expect(at.dueMillis == T.now + 5 && at.series?.startMillis == T.now + 5 && at.series?.catchup == Recurrence.Catchup.none)
    }

    @Test("issue 25 item 6b: a tock-at 5 minutes before the record's timestamp keeps its phase; nothing before the timestamp is due")
    func pastStart() throws {
        let past = T.stamp - 300_000 + 337
        let every = try #require(base.scheduled([("tock-topic", "out"), ("tock-every", "1s"), ("tock-at", String(past))]))
        #expect(every.dueMillis >= T.stamp && every.dueMillis < T.stamp + 1_000 && (every.dueMillis - past) % 1_000 == 0)
        #expect(every.series?.startMillis == every.dueMillis)
        let cron = try #require(base.scheduled([("tock-topic", "out"), ("tock-cron", "* * * * * *"), ("tock-at", String(past))]))
        #expect(cron.dueMillis == (T.stamp + 999) / 1_000 * 1_000)
        #expect(
            code([("tock-topic", "out"), ("tock-every", "1s"), ("tock-at", String(past)), ("tock-until", String(T.stamp - 1))]) == "bad-recurrence")
    }

    @Test("a cron series' due time is its first occurrence in its zone, at or after tock-at")
    func cronFirst() throws {
        // 2026-11-21 is a Saturday: the next weekday 09:00 in New York is Monday 2026-11-23 14:00Z.
        let m = try #require(base.scheduled([("tock-topic", "out"), ("tock-cron", "0 9 * * MON-FRI"), ("tock-tz", "America/New_York")]))
        #expect(m.dueMillis == 1_795_442_400_000)
        #expect(m.series?.cron == "0 9 * * MON-FRI" && m.series?.timeZone == "America/New_York" && m.series?.everyMillis == nil)
        let later = try #require(base.scheduled([("tock-topic", "out"), ("tock-cron", "@daily"), ("tock-at", "2026-12-24T10:00:00Z")]))
        #expect(later.dueMillis == 1_798_156_800_000)  // 2026-12-25T00:00Z
    }

    @Test("a series is refused with its code, after the checks every schedule has; its first occurrence is held to the horizon")
    func rejections() {
        #expect(code([("tock-topic", "out"), ("tock-cron", "* * * *")]) == "bad-cron")
        #expect(code([("tock-topic", "out"), ("tock-cron", nil)]) == "bad-cron")
        #expect(code([("tock-topic", "out"), ("tock-cron", "* * * * *"), ("tock-tz", "Nowhere/Town")]) == "bad-timezone")
        #expect(code([("tock-topic", "out"), ("tock-every", "1s"), ("tock-count", "-1")]) == "bad-recurrence")
        #expect(code([("tock-topic", "out"), ("tock-every", nil)]) == "bad-recurrence")
        #expect(code([("tock-topic", "out"), ("tock-catchup", "all")]) == "bad-recurrence")
        #expect(code([("tock-every", "1s")]) == "missing-topic")
        #expect(code([("tock-topic", "out"), ("tock-every", "1s"), ("tock-at", "1"), ("tock-delay", "1s")]) == "both-times")
        #expect(code([("tock-topic", "out"), ("tock-every", "1s"), ("tock-at", "soon")]) == "bad-time")
        #expect(code([("tock-topic", "out"), ("tock-every", "1s"), ("tock-at", String(T.now + T.horizon + 1))]) == "horizon")
        #expect(code([("tock-topic", "out"), ("tock-cron", "0 0 29 2 *"), ("tock-at", String(T.now + T.horizon - 86_400_000))]) == "horizon")
    }

    @Test("a reschedule may carry a series; a cancel ignores series headers")
    func actions() {
        guard
            case .success(.reschedule(let m)) = base.parse(
                T.record([
                    ("tock-topic", "out"), ("tock-id", "s"), ("tock-action", "reschedule"), ("tock-every", "2s"),
                ]))
        else {
            Issue.record("expected a reschedule")
            return
        }
        #expect(m.series?.everyMillis == 2_000)
        #expect(base.parse(T.record([("tock-id", "s"), ("tock-action", "cancel"), ("tock-cron", "bad")])) == .success(.cancel(id: "s")))
    }

    @Test("a series survives the stored form, with every field")
    func codec() throws {
        var m = ScheduledMessage(id: "s", idWasGiven: true, dueMillis: 5, topic: "t", key: nil, value: nil, headers: [])
        for series in [
            SeriesDefinition(
                cron: "*/2 * * * * *", timeZone: "Europe/Berlin", everyMillis: nil, startMillis: 5, untilMillis: 9_000, count: 7,
                catchup: .latest),
            SeriesDefinition(cron: nil, everyMillis: 1_000, startMillis: 5),
        ] {
            m.series = series
            #expect(try MessageCodec.decode(MessageCodec.encode(m), id: "s") == m)
        }
    }
}
