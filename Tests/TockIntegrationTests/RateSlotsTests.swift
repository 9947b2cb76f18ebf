import Foundation
import Testing
import TockCore
import TockRedis
import TockStore

/// `rate.lua` against the real Redis: publish slots of a rate-limited topic, shared by callers.
@Suite("Rate limit slots")
struct RateSlotsTests {
    let now: Int64 = 1_900_000_000_000

    /// The most slots any window of `windowMillis` holds.
    static func busiestWindow(_ times: [Int64], windowMillis: Int64 = 1_000) -> Int {
        let sorted = times.sorted()
        var best = 0
        var first = 0
        for (index, time) in sorted.enumerated() {
            while sorted[first] <= time - windowMillis { first += 1 }
            best = max(best, index - first + 1)
        }
        return best
    }

    @Test("slots never exceed the rate in any second, never precede the due time, and follow due order across callers")
    func slots() async throws {
        let store = try await ScheduleStoreTests().makeStore()
        var times: [Int64] = []
        var later: [Int64] = []
        // Two workers, each with a batch of 150 due now, then a second batch each: 600 at 200/s.
        for round in 0..<2 {
            for worker in 0..<2 {
                let dues = (0..<150).map { now + Int64(round * 150 + $0 + worker) }
                let reply = try await store.reserveSlots(topic: "limited", perSecond: 200, nowMillis: now, horizonMillis: 1_000, dueTimes: dues)
                for (due, slot) in zip(dues, reply.slots) {
                    switch slot {
                    case .publish(let at):
                        #expect(at >= due)
                        times.append(at)
                    case .later(let at): later.append(at)
                    }
                }
            }
        }
        // Within the horizon: a second's worth (plus the guard's rounding), the rest told to come back, in order.
        #expect(times.count >= 190 && times.count <= 201)
        #expect(times == times.sorted())
        #expect(Self.busiestWindow(times) <= 200)
        #expect(later.allSatisfy { $0 > now + 1_000 })
        // Coming back when told, they get slots without breaking the rate.
        var next = later.sorted()
        while !next.isEmpty {
            let at = next[0]
            let batch = next.filter { $0 <= at }
            next.removeFirst(batch.count)
            let reply = try await store.reserveSlots(topic: "limited", perSecond: 200, nowMillis: at, horizonMillis: 1_000, dueTimes: batch)
            for slot in reply.slots {
                switch slot {
                case .publish(let time): times.append(time)
                case .later(let time): next.append(time)
                }
            }
            next.sort()
        }
        #expect(times.count == 600)
        #expect(Self.busiestWindow(times) <= 200)
        #expect((times.max() ?? 0) - now >= 2_900 && (times.max() ?? 0) - now <= 3_200)
        // Another topic is not held back by this one.
        let other = try await store.reserveSlots(topic: "other", perSecond: 200, nowMillis: now, horizonMillis: 1_000, dueTimes: [now])
        guard case .publish(let at) = other.slots.first else {
            Issue.record("no slot for another topic")
            return
        }
        #expect(at >= now && at <= now + 6 && other.backlog == 0)
        await store.client.close()
    }
}
