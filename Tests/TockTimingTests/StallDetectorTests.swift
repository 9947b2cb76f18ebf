import Testing
import TockTiming

@Suite("Stall detector")
struct StallDetectorTests {
    @Test("a tick the threshold or more after the one before is a stall, with its gap; ticks on time are not")
    func stalls() {
        let t0 = ContinuousClock.now
        var detector = StallDetector(threshold: .seconds(1), last: t0)
        #expect(detector.tick(at: t0 + .milliseconds(100)) == nil)
        #expect(detector.tick(at: t0 + .milliseconds(1_050)) == nil)
        #expect(detector.tick(at: t0 + .milliseconds(8_050)) == .seconds(7))
        #expect(detector.tick(at: t0 + .milliseconds(8_150)) == nil)
    }
}
