import Testing
import TockCore

@Suite struct ClaimReconciliationTests {
    @Test func firstPassIsDueAtOnceWithTheGraceAsCutoff() {
        var reconciliation = ClaimReconciliation(intervalMillis: 1_000, graceMillis: 3_000)
        #expect(reconciliation.passDue(nowMillis: 10_000) == 7_000)
    }

    @Test func passesComeAtMostOncePerInterval() {
        var reconciliation = ClaimReconciliation(intervalMillis: 1_000, graceMillis: 3_000)
        #expect(reconciliation.passDue(nowMillis: 10_000) == 7_000)
        #expect(reconciliation.passDue(nowMillis: 10_001) == nil)
        #expect(reconciliation.passDue(nowMillis: 10_999) == nil)
        #expect(reconciliation.passDue(nowMillis: 11_000) == 8_000)
        #expect(reconciliation.lastPassMillis == 11_000)
    }

    @Test func aClockSteppedBackDoesNotStopPassesForever() {
        var reconciliation = ClaimReconciliation(intervalMillis: 1_000, graceMillis: 0)
        #expect(reconciliation.passDue(nowMillis: 50_000) != nil)
        #expect(reconciliation.passDue(nowMillis: 40_000) == nil)
        #expect(reconciliation.passDue(nowMillis: 51_000) == 51_000)
    }

    @Test func onlyExpiredClaimsTheWheelLacksGoBack() {
        let held: Set<String> = ["a", "c"]
        let expired: [(id: String, dueMillis: Int64)] = [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
        let missing = ClaimReconciliation.missing(expired, wheelHolds: held.contains)
        #expect(missing.map(\.id) == ["b", "d"])
        #expect(missing.map(\.dueMillis) == [2, 4])
    }
}
