#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Epoch milliseconds: the unit of every due time in Tock.
public protocol WallClock: Sendable {
    func nowMillis() -> Int64
    /// Epoch microseconds, for measuring lateness below a millisecond.
    func nowMicros() -> Int64
}

extension WallClock {
    public func nowMicros() -> Int64 { nowMillis() * 1000 }
}

/// The system's real-time clock (CLOCK_REALTIME), as due times are wall-clock instants.
public struct SystemWallClock: WallClock {
    public init() {}

    public func nowMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// Microseconds, for measuring lateness below a millisecond.
    public func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}
