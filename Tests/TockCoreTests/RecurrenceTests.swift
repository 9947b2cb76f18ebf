import Foundation
import Testing

@testable import TockCore

/// A series' occurrences, ends and catch-up, with a manual clock.
@Suite struct RecurrenceTests {
    static let start: Int64 = 1_796_000_000_000

    /// Fires the series as a worker would, each occurrence `delayMillis` late.
    static func run(_ recurrence: Recurrence, delayMillis: Int64 = 0, limit: Int = 100) -> [Int64] {
        var fired: [Int64] = []
        var next = recurrence.first
        while fired.count < limit, let due = next {
            switch recurrence.catchUp(due, fired: fired.count, nowMillis: due + delayMillis, missedAfterMillis: 1_000) {
            case .fire:
                fired.append(due)
                next = recurrence.following(due, fired: fired.count)
            case .moveTo(let later): next = later
            case .end: next = nil
            }
        }
        return fired
    }

    @Test("tock-every 1s with tock-count 5: exactly 5 occurrences, 1000 ms apart")
    func everyWithCount() {
        let series = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, count: 5)
        #expect(Self.run(series) == (0..<5).map { Self.start + Int64($0) * 1_000 })
    }

    @Test("tock-every counts from the first occurrence, whenever the previous one fired; tock-until ends it (inclusive)")
    func everyWithUntil() {
        let series = Recurrence(pattern: .every(intervalMillis: 250), startMillis: Self.start, untilMillis: Self.start + 1_000)
        #expect(Self.run(series, delayMillis: 40) == [0, 250, 500, 750, 1_000].map { Self.start + $0 })
        #expect(series.following(Self.start + 260, fired: 1) == Self.start + 500)
    }

    @Test("a 6-field cron every 2 s in Europe/Berlin with tock-until: even seconds, none after until")
    func cronWithUntil() throws {
        let schedule = CronSchedule(try CronExpression("*/2 * * * * *"), zone: try #require(TimeZone(identifier: "Europe/Berlin")))
        let series = Recurrence(pattern: .cron(schedule), startMillis: Self.start + 1, untilMillis: Self.start + 9_000)
        let fired = Self.run(series)
        #expect(fired == [2_000, 4_000, 6_000, 8_000].map { Self.start + $0 })
        #expect(fired.allSatisfy { ($0 / 1_000) % 2 == 0 })
    }

    @Test("catch-up after an outage: all fires each missed occurrence oldest first, latest only the newest, none skips them")
    func catchup() {
        let now = Self.start + 10_500  // occurrences at +0 … +10 s were missed
        func series(_ catchup: Recurrence.Catchup) -> Recurrence {
            Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, catchup: catchup)
        }
        #expect(series(.all).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .fire)
        #expect(series(.latest).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .moveTo(Self.start + 10_000))
        // The newest one is not missed: it fires.
        #expect(series(.latest).catchUp(Self.start + 10_000, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .fire)
        #expect(series(.none).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .moveTo(Self.start + 10_000))
        #expect(series(.none).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 200) == .moveTo(Self.start + 11_000))
        // Ordinary lateness is not a miss.
        for mode in Recurrence.Catchup.allCases {
            #expect(series(mode).catchUp(Self.start + 1_000, fired: 1, nowMillis: Self.start + 1_040, missedAfterMillis: 1_000) == .fire)
        }
    }

    @Test("catch-up of a cron series works the same way, and respects tock-until")
    func cronCatchup() throws {
        let schedule = CronSchedule(try CronExpression("*/2 * * * * *"), zone: try #require(TimeZone(identifier: "UTC")))
        let now = Self.start + 7_000
        func series(_ catchup: Recurrence.Catchup, until: Int64? = nil) -> Recurrence {
            Recurrence(pattern: .cron(schedule), startMillis: Self.start, untilMillis: until, catchup: catchup)
        }
        #expect(series(.all).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .fire)
        #expect(series(.latest).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .moveTo(Self.start + 6_000))
        #expect(series(.none).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .moveTo(Self.start + 6_000))
        #expect(series(.none).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 500) == .moveTo(Self.start + 8_000))
        #expect(
            series(.latest, until: Self.start + 3_000).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000)
                == .moveTo(Self.start + 2_000))
        #expect(series(.none, until: Self.start + 3_000).catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .end)
    }

    @Test("latest after a week away on a per-second cron finds the newest occurrence without stepping through each")
    func latestAfterAWeek() throws {
        let schedule = CronSchedule(try CronExpression("* * * * * *"), zone: try #require(TimeZone(identifier: "Europe/Berlin")))
        let series = Recurrence(pattern: .cron(schedule), startMillis: Self.start, catchup: .latest)
        let now = Self.start + 7 * 86_400_000 + 400
        let clock = ContinuousClock()
        let started = clock.now
        #expect(series.catchUp(Self.start, fired: 0, nowMillis: now, missedAfterMillis: 1_000) == .moveTo(now - 400))
        #expect(clock.now - started < .seconds(1))
    }

    @Test("a series whose count is reached, or whose next occurrence is past tock-until, has ended")
    func ends() {
        let series = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, untilMillis: Self.start + 1_500, count: 3)
        #expect(series.following(Self.start + 1_000, fired: 2) == nil)  // +2 s is past until
        #expect(series.following(Self.start, fired: 3) == nil)
        let past = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, untilMillis: Self.start - 1, catchup: .latest)
        #expect(past.first == nil)
    }

    @Test("issue 25 item 6b: the first occurrence at or after a request's timestamp; a past start keeps an interval series' phase")
    func firstNotBefore() throws {
        let request = Self.start + 300_000
        let every = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start + 337)
        #expect(every.first(notBefore: request) == request + 337)
        #expect(every.first(notBefore: request + 337) == request + 337)
        #expect(every.first(notBefore: Self.start) == Self.start + 337)
        let schedule = CronSchedule(try CronExpression("*/2 * * * * *"), zone: try #require(TimeZone(identifier: "UTC")))
        let cron = Recurrence(pattern: .cron(schedule), startMillis: Self.start)
        #expect(cron.first(notBefore: request + 1) == request + 2_000)
        // Nothing left at or after the request: until came first.
        let ended = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, untilMillis: request - 1)
        #expect(ended.first(notBefore: request) == nil && ended.first == Self.start)
    }

    @Test("contains: an occurrence of the definition, on its phase, from its start, by its until")
    func contains() throws {
        let every = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, untilMillis: Self.start + 5_000)
        #expect(every.contains(Self.start) && every.contains(Self.start + 5_000))
        #expect(!every.contains(Self.start - 1_000) && !every.contains(Self.start + 500) && !every.contains(Self.start + 6_000))
        let schedule = CronSchedule(try CronExpression("*/2 * * * * *"), zone: try #require(TimeZone(identifier: "UTC")))
        let cron = Recurrence(pattern: .cron(schedule), startMillis: Self.start)
        #expect(cron.contains(Self.start + 2_000) && !cron.contains(Self.start + 1_000))
    }

    @Test(
        "issue 25 item 2, settle: at or before the published-through mark only advances past it; another definition's occurrence gives way; a used-up count ends; otherwise catch-up on a first try"
    )
    func settle() {
        let every = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, count: 10)
        func settle(_ due: Int64, fired: Int = 0, through: Int64? = nil, firstTry: Bool = true, now: Int64? = nil) -> Recurrence.CatchUp {
            every.settle(due, fired: fired, publishedThrough: through, firstTry: firstTry, nowMillis: now ?? due, missedAfterMillis: 1_000)
        }
        #expect(settle(Self.start + 3_000, fired: 6, through: Self.start + 5_000) == .moveTo(Self.start + 6_000))
        #expect(settle(Self.start + 5_000, fired: 6, through: Self.start + 5_000, firstTry: false) == .moveTo(Self.start + 6_000))
        #expect(settle(Self.start + 5_000, fired: 10, through: Self.start + 5_000) == .end)
        #expect(settle(Self.start + 6_000, fired: 6, through: Self.start + 5_000) == .fire)
        // Placed by a definition on another phase: the series goes on at this one's first after the mark.
        #expect(settle(Self.start + 6_500, fired: 6, through: Self.start + 5_000) == .moveTo(Self.start + 6_000))
        #expect(settle(Self.start - 500, fired: 0) == .moveTo(Self.start))
        #expect(settle(Self.start + 6_000, fired: 10, through: Self.start + 5_000) == .end)
        // A retry is published even when late; a first try follows tock-catchup (all here).
        #expect(settle(Self.start + 6_000, fired: 6, through: Self.start + 5_000, firstTry: false, now: Self.start + 60_000) == .fire)
        let none = Recurrence(pattern: .every(intervalMillis: 1_000), startMillis: Self.start, catchup: .none)
        #expect(
            none.settle(Self.start, fired: 0, publishedThrough: nil, firstTry: true, nowMillis: Self.start + 5_500, missedAfterMillis: 1_000)
                == .moveTo(Self.start + 5_000))
        #expect(
            none.settle(Self.start, fired: 0, publishedThrough: nil, firstTry: false, nowMillis: Self.start + 5_500, missedAfterMillis: 1_000)
                == .fire)
    }
}
