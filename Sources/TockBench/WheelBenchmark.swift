import TockCore
import TockTiming

/// Measures the timing wheel alone: inserts/s, expirations/s and cancels/s on one core.
struct WheelBenchmark {
    var entries: Int
    var spreadMillis: Int64
    var rounds: Int

    struct Result {
        var label: String
        var insertsPerSecond: Double
        var expirationsPerSecond: Double
        var cancelsPerSecond: Double
    }

    func run<ID: Hashable>(label: String, makeID: (Int) -> ID) -> Result {
        let ids = (0..<entries).map(makeID)
        var generator = SplitMix64(seed: 42)
        let offsets = (0..<entries).map { _ in Int64.random(in: 1...spreadMillis, using: &generator) }
        var best = Result(label: label, insertsPerSecond: 0, expirationsPerSecond: 0, cancelsPerSecond: 0)
        for _ in 0..<rounds {
            let start: Int64 = 1_700_000_000_000
            var wheel = TimingWheel<ID>(startMillis: start)

            let insertClock = ContinuousClock.now
            for i in 0..<entries { wheel.insert(ids[i], dueMillis: start + offsets[i]) }
            let insertSeconds = seconds(ContinuousClock.now - insertClock)

            // Expire by walking the clock through the span in 1 ms steps, as the driver would
            // under steady load.
            let expireClock = ContinuousClock.now
            var expired = 0
            var now = start
            while now <= start + spreadMillis {
                now += 1
                expired += wheel.advance(to: now).count
            }
            let expireSeconds = seconds(ContinuousClock.now - expireClock)
            precondition(expired == entries, "expired \(expired) of \(entries)")

            for i in 0..<entries { wheel.insert(ids[i], dueMillis: now + offsets[i]) }
            let cancelClock = ContinuousClock.now
            for i in 0..<entries { _ = wheel.cancel(ids[i]) }
            let cancelSeconds = seconds(ContinuousClock.now - cancelClock)
            precondition(wheel.isEmpty)

            best.insertsPerSecond = max(best.insertsPerSecond, Double(entries) / insertSeconds)
            best.expirationsPerSecond = max(best.expirationsPerSecond, Double(entries) / expireSeconds)
            best.cancelsPerSecond = max(best.cancelsPerSecond, Double(entries) / cancelSeconds)
        }
        return best
    }
}
