import Testing

@testable import TockCore
@testable import TockTiming

@Suite("TimingWheel under a manual clock")
struct TimingWheelTests {
    let start: Int64 = 1_700_000_000_000

    func ids(_ entries: [TimingWheel<String>.Entry]) -> [String] { entries.map(\.id).sorted() }

    @Test("an entry comes back exactly at its due millisecond, not one before")
    func firesAtDueTimeNotBefore() {
        var wheel = TimingWheel<String>(startMillis: start)
        wheel.insert("a", dueMillis: start + 10)
        #expect(wheel.advance(to: start + 9).isEmpty)
        #expect(ids(wheel.advance(to: start + 10)) == ["a"])
        #expect(wheel.advance(to: start + 11).isEmpty)
        #expect(wheel.isEmpty)
    }

    @Test("an entry at the end of time is held (no endless levels), and comes back with nothing else")
    func endOfTime() {
        for wheelSize in [8, 512] {
            var wheel = TimingWheel<String>(startMillis: start, wheelSize: wheelSize)
            wheel.insert("never", dueMillis: Int64.max / 2)
            wheel.insert("end", dueMillis: Int64.max / 2 + 1_000)
            wheel.insert("soon", dueMillis: start + 5)
            #expect(wheel.levelCount < 64 && wheel.count == 3)
            #expect(ids(wheel.advance(to: start + 5)) == ["soon"])
            #expect(wheel.count == 2)
        }
    }

    @Test("bucket boundaries: the last tick of level 0 and the first of level 1")
    func levelBoundaries() {
        var wheel = TimingWheel<String>(startMillis: start, wheelSize: 8)
        wheel.insert("last-of-level-0", dueMillis: start + 7)
        wheel.insert("first-of-level-1", dueMillis: start + 8)
        wheel.insert("mid-level-1", dueMillis: start + 37)
        for t in start...(start + 40) {
            for entry in wheel.advance(to: t) {
                #expect(entry.dueMillis == t, "\(entry.id) fired at \(t - start)")
            }
        }
        #expect(wheel.isEmpty)
    }

    @Test("entries beyond the top level create overflow levels on demand and fire on time")
    func overflowLevels() {
        var wheel = TimingWheel<Int>(startMillis: start, wheelSize: 4)
        #expect(wheel.levelCount == 1)
        let delays: [Int64] = [1, 3, 4, 15, 16, 63, 64, 255, 1_000, 4_095, 4_096, 100_000]
        for (i, d) in delays.enumerated() { wheel.insert(i, dueMillis: start + d) }
        #expect(wheel.levelCount >= 9)
        var fired: [Int: Int64] = [:]
        var t = start
        while !wheel.isEmpty {
            // Jump straight to the next deadline, as the driver does.
            t = max(t + 1, wheel.nextDeadline!)
            for e in wheel.advance(to: t) { fired[e.id] = t }
        }
        for (i, d) in delays.enumerated() { #expect(fired[i] == start + d, "delay \(d)") }
    }

    @Test("a far-future entry (two years) waits through coarse levels and fires at its millisecond")
    func farFuture() {
        var wheel = TimingWheel<String>(startMillis: start)
        let due = start + 730 * 86_400_000 + 123
        wheel.insert("far", dueMillis: due)
        var steps = 0
        var t = start
        var firedAt: Int64?
        while firedAt == nil {
            t = wheel.nextDeadline!
            steps += 1
            #expect(t <= due)
            if let e = wheel.advance(to: t).first {
                firedAt = t
                #expect(e.id == "far")
            }
        }
        #expect(firedAt == due)
        #expect(steps < 64 * 8, "jumps bucket to bucket, not tick by tick: \(steps) steps")
    }

    @Test("an entry due in the past comes back at the next advance")
    func pastDue() {
        var wheel = TimingWheel<String>(startMillis: start)
        _ = wheel.advance(to: start + 100)
        wheel.insert("late", dueMillis: start + 50)
        wheel.insert("now", dueMillis: start + 100)
        #expect(wheel.nextDeadline == start + 100)
        let fired = wheel.advance(to: start + 100)
        #expect(ids(fired) == ["late", "now"])
    }

    @Test("cancel removes an entry in O(1) and reports whether it was held")
    func cancel() {
        var wheel = TimingWheel<String>(startMillis: start)
        wheel.insert("a", dueMillis: start + 5)
        wheel.insert("b", dueMillis: start + 5)
        wheel.insert("c", dueMillis: start + 500_000)
        let first = wheel.cancel("a"), again = wheel.cancel("a"), far = wheel.cancel("c")
        #expect(first == start + 5)
        #expect(again == nil)
        #expect(far == start + 500_000)
        #expect(ids(wheel.advance(to: start + 1_000_000)) == ["b"])
        #expect(wheel.isEmpty)
    }

    @Test("re-inserting an id replaces its due time; it fires once, at the new time")
    func reinsert() {
        var wheel = TimingWheel<String>(startMillis: start)
        let first = wheel.insert("a", dueMillis: start + 10)
        let second = wheel.insert("a", dueMillis: start + 3_000)
        #expect(first && !second)
        #expect(wheel.count == 1)
        #expect(wheel.advance(to: start + 10).isEmpty)
        #expect(ids(wheel.advance(to: start + 3_000)) == ["a"])
        wheel.insert("a", dueMillis: start + 3_005)
        #expect(ids(wheel.advance(to: start + 3_005)) == ["a"])
    }

    @Test("a wall clock stepped backwards releases nothing early")
    func clockBackwards() {
        var wheel = TimingWheel<String>(startMillis: start)
        _ = wheel.advance(to: start + 1_000)
        wheel.insert("x", dueMillis: start + 900)  // ready: already due by the wheel's clock
        #expect(wheel.advance(to: start + 800).isEmpty)
        #expect(ids(wheel.advance(to: start + 900)) == ["x"])
    }

    @Test("storage shrinks after a large batch drains, so memory follows the entries held")
    func memoryFollowsEntries() {
        var wheel = TimingWheel<Int>(startMillis: start)
        for i in 0..<100_000 { wheel.insert(i, dueMillis: start + Int64(i % 1_000)) }
        wheel.insert(-1, dueMillis: start + 10_000_000)
        #expect(wheel.capacity >= 100_001)
        #expect(wheel.advance(to: start + 1_000).count == 100_000)
        #expect(wheel.count == 1)
        #expect(wheel.capacity < 100, "capacity \(wheel.capacity) after draining")
        #expect(ids2(wheel.advance(to: start + 10_000_000)) == [-1])
    }

    func ids2(_ entries: [TimingWheel<Int>.Entry]) -> [Int] { entries.map(\.id) }

    @Test("removeAll(where:) takes out only the matching entries; the rest still fire")
    func removeWhere() {
        var wheel = TimingWheel<String>(startMillis: start)
        for i in 0..<10 { wheel.insert("s\(i % 2)-\(i)", dueMillis: start + Int64(i) + 1) }
        let removed = wheel.removeAll(where: { $0.hasPrefix("s1-") })
        #expect(removed.count == 5 && removed.allSatisfy { $0.id.hasPrefix("s1-") })
        let fired = wheel.advance(to: start + 100)
        #expect(ids(fired) == ["s0-0", "s0-2", "s0-4", "s0-6", "s0-8"])
    }

    @Test("removeAll hands back every entry with its due time")
    func removeAll() {
        var wheel = TimingWheel<String>(startMillis: start)
        wheel.insert("a", dueMillis: start + 1)
        wheel.insert("b", dueMillis: start + 99_999)
        let all = wheel.removeAll().sorted { $0.id < $1.id }
        #expect(all == [.init(id: "a", dueMillis: start + 1), .init(id: "b", dueMillis: start + 99_999)])
        #expect(wheel.isEmpty && wheel.advance(to: start + 200_000).isEmpty)
    }

    @Test("100k random insert, cancel and advance operations match a sorted reference")
    func randomizedAgainstReference() {
        randomized(operations: 100_000, makeID: { $0 })
    }

    @Test("the id index survives heavy hash collisions (probing and backward-shift deletion)")
    func randomizedWithCollidingHashes() {
        randomized(operations: 30_000, makeID: { CollidingID(value: $0) })
    }

    func randomized<ID: Hashable>(operations: Int, makeID: (Int) -> ID) {
        var rng = SplitMix64(seed: 0x70C4)
        var wheel = TimingWheel<ID>(startMillis: start, wheelSize: 16)
        var reference: [ID: Int64] = [:]  // id -> due
        var now = start
        var nextID = 0
        var fired = 0
        for _ in 0..<operations {
            switch rng.next() % 10 {
            case 0...4:  // insert, sometimes re-inserting a held id, sometimes in the past
                let id: ID
                if !reference.isEmpty && rng.next() % 8 == 0 {
                    id = reference.keys.randomElement(using: &rng)!
                } else {
                    id = makeID(nextID)
                    nextID += 1
                }
                let span: [Int64] = [5, 300, 20_000, 5_000_000, 90 * 86_400_000]
                let delay = Int64(rng.next() % UInt64(span.randomElement(using: &rng)!)) - 3
                let due = now + delay
                wheel.insert(id, dueMillis: due)
                reference[id] = due
            case 5...6:  // cancel a held or unknown id
                let id = reference.isEmpty || rng.next() % 4 == 0 ? makeID(-7) : reference.keys.randomElement(using: &rng)!
                let cancelled = wheel.cancel(id)
                #expect(cancelled == reference.removeValue(forKey: id))
            default:  // advance, usually a little, sometimes far
                let step: Int64 = rng.next() % 50 == 0 ? Int64(rng.next() % 10_000_000) : Int64(rng.next() % 40)
                now += step
                let got = wheel.advance(to: now)
                let expected = reference.filter { $0.value <= now }
                #expect(got.count == expected.count)
                for entry in got {
                    #expect(entry.dueMillis <= now, "early")
                    #expect(reference[entry.id] == entry.dueMillis, "unknown, stale or duplicate entry \(entry.id)")
                    reference.removeValue(forKey: entry.id)
                }
                fired += got.count
            }
            #expect(wheel.count == reference.count)
        }
        now += 100 * 86_400_000
        #expect(wheel.advance(to: now).count == reference.count)
        #expect(wheel.isEmpty)
        #expect(fired > operations / 10)
    }
}

/// An id whose hash collides with many others, to exercise the wheel's index probing.
struct CollidingID: Hashable {
    var value: Int
    func hash(into hasher: inout Hasher) { hasher.combine(value % 7) }
}
