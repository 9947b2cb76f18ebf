import CThreadOptions
import Foundation
import TockConcurrency

/// Notices that the whole process stood still (SIGSTOP, a frozen VM, a host swapping): a thread
/// of its own ticks every `interval`, and a tick that comes `threshold` or more after the one
/// before calls `onStall` with the gap, on this thread, as soon as the process runs again.
public final class StallWatchdog: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var stopped = false

    public init(
        interval: Duration = .milliseconds(100), threshold: Duration, name: String = "tock-watchdog",
        onStall: @escaping @Sendable (Duration) -> Void
    ) {
        let thread = Thread { [self] in
            nameCurrentThread(name)
            var detector = StallDetector(threshold: threshold, last: .now)
            while true {
                condition.lock()
                if stopped {
                    condition.unlock()
                    return
                }
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval.seconds))
                condition.unlock()
                if let gap = detector.tick(at: .now) { onStall(gap) }
            }
        }
        thread.name = name
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
