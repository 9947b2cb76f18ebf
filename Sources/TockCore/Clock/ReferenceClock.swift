import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A clock that only moves forward at a steady rate, whatever happens to the wall clock, and keeps
/// counting while the host is suspended: `CLOCK_BOOTTIME` on Linux.
public enum MonotonicClock {
    public static func nowMicros() -> Int64 {
        var spec = timespec()
        #if os(Linux)
            clock_gettime(CLOCK_BOOTTIME, &spec)
        #else
            clock_gettime(CLOCK_MONOTONIC, &spec)
        #endif
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }
}

/// The cluster's reference clock (Redis `TIME`) as this process knows it: the monotonic clock plus
/// the base `ClockGuard` chose from the last measurement (SPEC guarantee 5). A wall clock that
/// runs fast or slow, or is stepped, does not move it; until the first measurement it reads the
/// wall clock. Workers fire, lease, stamp records and judge time by it.
public final class ReferenceClock: WallClock {
    /// Reference − monotonic, in microseconds.
    private let base: Atomic<Int64>

    public init() { base = Atomic(SystemWallClock().nowMicros() - MonotonicClock.nowMicros()) }

    public func nowMicros() -> Int64 { MonotonicClock.nowMicros() + base.load(ordering: .relaxed) }

    public func nowMillis() -> Int64 { nowMicros() / 1_000 }

    /// Runs on `baseMicros` (reference − monotonic) from now on.
    public func rebase(_ baseMicros: Int64) { base.store(baseMicros, ordering: .relaxed) }

    /// Reference − this host's wall clock now, as the clock runs.
    public var wallOffsetMicros: Int64 { nowMicros() - SystemWallClock().nowMicros() }
}
