import Testing
import TockCore

@Suite("The cold rings' layout: which tier a message goes to, when each slot is read, and that a ring never holds two live turns")
struct ColdLayoutTests {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    static let now: Int64 = 1_796_000_000_000

    /// The defaults, and the shrunk rings a test runs (slots of seconds).
    static let layouts: [ColdLayout] = {
        var small = ColdLayout()
        small.hotHorizonMillis = 2_000
        small.hourSlotMillis = 1_000
        small.daySlotMillis = 10_000
        small.copyLeadMillis = 12_000
        small.moveLeadMillis = 500
        small.graceMillis = 1_000
        small.maxHorizonMillis = 120_000
        small.shards = 4
        return [ColdLayout(), small]
    }()

    @Test("the defaults: 50 hour partitions per shard (800 for 16 shards) and 732 day partitions for 730 days")
    func ringSizes() {
        let layout = ColdLayout()
        #expect(layout.hourRing == 50 && layout.hourPartitions == 800 && layout.dayRing == 732)
    }

    @Test("due within the hot horizon: hot; within a day: its hour slot's partition in its shard's ring; further: its day slot's partition")
    func tiers() {
        let layout = ColdLayout()
        #expect(layout.tier(dueMillis: Self.now + Self.hour, nowMillis: Self.now, shard: 3) == .hot)
        let due = Self.now + Self.hour + 1
        let hourSlot = due / Self.hour
        #expect(layout.tier(dueMillis: due, nowMillis: Self.now, shard: 3) == .hours(slot: hourSlot, partition: Int32(Int(hourSlot % 50) * 16 + 3)))
        guard case .hours = layout.tier(dueMillis: Self.now + Self.day - 1, nowMillis: Self.now, shard: 0) else {
            Issue.record("due just within a day is in the hours ring")
            return
        }
        let far = Self.now + 700 * Self.day
        #expect(layout.tier(dueMillis: far, nowMillis: Self.now, shard: 5) == .days(slot: far / Self.day, partition: Int32(far / Self.day % 732)))
        guard case .days = layout.tier(dueMillis: Self.now + Self.day, nowMillis: Self.now, shard: 0) else {
            Issue.record("due a day ahead is in the days ring")
            return
        }
    }

    @Test("a cold message written at any time is read by its day's copy, then by its hour's move, before it is due within 30 s", arguments: layouts)
    func everyMessageIsHotInTime(layout: ColdLayout) {
        var random = SystemRandomNumberGenerator()
        let lookahead = min(30_000, layout.hotHorizonMillis / 4)
        for _ in 0..<20_000 {
            let written = Self.now + Int64.random(in: 0..<(10 * layout.daySlotMillis), using: &random)
            let due = written + Int64.random(in: (layout.hotHorizonMillis + 1)...layout.maxHorizonMillis, using: &random)
            var inHours = written
            switch layout.tier(dueMillis: due, nowMillis: written, shard: 1) {
            case .hot:
                Issue.record("due \(due - written) ms ahead is cold")
            case .days(let slot, _):
                let copy = layout.copyWindow(daySlot: slot)
                #expect(written < copy.upperBound, "written after its day's copy ended")
                inHours = max(written, copy.lowerBound)
                guard case .hours = layout.hourTier(dueMillis: due, shard: 1) else { return }
            case .hours:
                break
            }
            guard case .hours(let slot, _) = layout.hourTier(dueMillis: due, shard: 1) else { return }
            let move = layout.moveWindow(hourSlot: slot)
            let moved = max(inHours, move.lowerBound)
            #expect(moved < move.upperBound, "due \(due), in the hours ring at \(inHours), move window \(move)")
            #expect(moved <= due - lookahead, "moved \(due - moved) ms before it is due")
        }
    }

    @Test("a partition is never written for its next turn before the last read of this one", arguments: layouts)
    func ringsOutlastTheirSlots(layout: ColdLayout) {
        let firstHour = Self.now / layout.hourSlotMillis
        for slot in firstHour..<(firstHour + 3 * Int64(layout.hourRing)) {
            let next = slot + Int64(layout.hourRing)
            let nextStart = next * layout.hourSlotMillis
            let nextDay = ColdLayout.slot(nextStart + layout.hourSlotMillis - 1, width: layout.daySlotMillis)
            // Its earliest write: a copy of the day it ends in, or a message due at its start a day ahead.
            let earliestWrite = min(layout.copyWindow(daySlot: nextDay).lowerBound, nextStart - layout.daySlotMillis)
            #expect(earliestWrite >= layout.moveWindow(hourSlot: slot).upperBound, "hour slot \(slot)")
        }
        let firstDay = Self.now / layout.daySlotMillis
        for slot in firstDay..<(firstDay + 3 * Int64(layout.dayRing)) {
            let nextStart = (slot + Int64(layout.dayRing)) * layout.daySlotMillis
            #expect(nextStart - layout.maxHorizonMillis >= layout.copyWindow(daySlot: slot).upperBound, "day slot \(slot)")
        }
    }

    @Test("the open slots are exactly those whose window holds now, earliest first", arguments: layouts)
    func openSlots(layout: ColdLayout) {
        for step in 0..<500 {
            let now = Self.now + Int64(step) * layout.hourSlotMillis / 7
            let hours = ColdLayout.slot(now, width: layout.hourSlotMillis)
            let expectedHours = ((hours - 5)...(hours + 5)).filter { layout.moveWindow(hourSlot: $0).contains(now) }
            #expect(layout.openHourSlots(nowMillis: now) == expectedHours)
            let days = ColdLayout.slot(now, width: layout.daySlotMillis)
            let expectedDays = ((days - 3)...(days + 3)).filter { layout.copyWindow(daySlot: $0).contains(now) }
            #expect(layout.openDaySlots(nowMillis: now) == expectedDays)
        }
    }
}
