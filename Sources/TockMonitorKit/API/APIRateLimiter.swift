/// A token bucket per caller (a token's name, or a remote address for callers without a valid
/// token): `rate` requests a second, and up to `2 × rate` at once. Pure; the clock is passed in.
public struct APIRateLimiter: Sendable {
    public let rate: Int
    public let burst: Int
    /// Callers beyond this many: the fullest buckets go first (a full bucket is the same as none).
    public let maxCallers: Int
    private var buckets: [String: (tokens: Double, atMillis: Int64)] = [:]

    public init(rate: Int, maxCallers: Int = 10_000) {
        self.rate = rate
        burst = 2 * rate
        self.maxCallers = maxCallers
    }

    /// Whether `caller` may make one more request now; if so, it is counted.
    public mutating func admit(_ caller: String, nowMillis: Int64) -> Bool {
        var bucket = buckets[caller] ?? (Double(burst), nowMillis)
        let elapsed = Double(max(0, nowMillis - bucket.atMillis)) / 1_000
        bucket.tokens = min(Double(burst), bucket.tokens + elapsed * Double(rate))
        bucket.atMillis = nowMillis
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        buckets[caller] = bucket
        if buckets.count > maxCallers { forgetFullest(nowMillis: nowMillis) }
        return admitted
    }

    private mutating func forgetFullest(nowMillis: Int64) {
        let excess = buckets.count - maxCallers * 9 / 10
        let fullest = buckets.sorted {
            $0.value.tokens + Double(nowMillis - $0.value.atMillis) * Double(rate) / 1_000 > $1.value.tokens + Double(nowMillis - $1.value.atMillis)
                * Double(rate) / 1_000
        }
        for (caller, _) in fullest.prefix(excess) { buckets[caller] = nil }
    }

    var callerCount: Int { buckets.count }
}
