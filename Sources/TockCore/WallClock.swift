import Synchronization

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

/// A clock that moves only when told to; for tests.
public final class ManualWallClock: WallClock {
    private let now: Mutex<Int64>

    public init(startMillis: Int64 = 0) { now = Mutex(startMillis) }

    public func nowMillis() -> Int64 { now.withLock { $0 } }

    public func set(_ millis: Int64) { now.withLock { $0 = millis } }

    public func advance(by millis: Int64) { now.withLock { $0 += millis } }
}
