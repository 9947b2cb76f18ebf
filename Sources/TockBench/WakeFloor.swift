import ArgumentParser
import Foundation
import TockCore
import TockTiming

/// What a thread pays in CPU to wake once per millisecond on this machine, with no work: a bare
/// `clock_nanosleep` loop and the worker's publish gate (`DueGate`). Publishing each message in
/// its due millisecond costs at least this per millisecond that has a message due.
struct WakeFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wake-floor", abstract: "CPU per timed wake-up, once per millisecond: a bare sleep loop and the publish gate.")
    @Option var wakes = 5_000
    @Option(help: "Messages per second at which to express the gate's cost per message.") var rate = 5_000

    func run() async {
        let bare = bareSleepLoop()
        let gate = await gateLoop()
        let perMessage = gate * Double(min(1_000, rate)) / Double(max(1, rate))
        print("CPU per wake-up, \(wakes) wake-ups 1 ms apart: bare sleep loop \(format(bare)) µs, publish gate \(format(gate)) µs")
        print("at \(rate) messages/s (a message due in every millisecond): \(format(perMessage)) µs per message for the gate's wake-ups alone")
        print("RESULT wake_bare_cpu_us=\(format(bare))")
        print("RESULT wake_gate_cpu_us=\(format(gate))")
        print("RESULT wake_gate_us_per_msg=\(format(perMessage))")
    }

    private func bareSleepLoop() -> Double {
        var next = timespec()
        clock_gettime(CLOCK_MONOTONIC, &next)
        let start = threadCPUNanoseconds()
        for _ in 0..<wakes {
            next.tv_nsec += 1_000_000
            if next.tv_nsec >= 1_000_000_000 {
                next.tv_nsec -= 1_000_000_000
                next.tv_sec += 1
            }
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nil)
        }
        return Double(threadCPUNanoseconds() - start) / 1_000 / Double(wakes)
    }

    private func gateLoop() async -> Double {
        let clock = SystemWallClock()
        let gate = DueGate(clock: clock, name: "wake-floor")
        let first = clock.nowMillis() + 20
        let schedule: [(atMillis: Int64, body: @Sendable () -> Int64)] = (0...wakes).map { n in
            (atMillis: first + Int64(n), body: { threadCPUNanoseconds() })
        }
        let stamps = await gate.run(schedule: schedule)
        gate.stop()
        return Double(stamps[wakes] - stamps[0]) / 1_000 / Double(wakes)
    }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// CPU time of the calling thread.
private func threadCPUNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}
