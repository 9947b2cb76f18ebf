import Synchronization

/// Finds the primary that a set of Sentinels name, for connections to follow across failovers.
///
/// A connection asks when it (re)connects, and checks `ROLE` before its first command, so it
/// never writes to a replica. It forgets the answer when the connection breaks or the server
/// answers READONLY (a primary demoted to replica). And since a primary that Sentinel failed
/// over stays a primary for a while (a manual `SENTINEL FAILOVER` demotes it some seconds
/// later), a connection in use also asks whether the primary moved, at most every
/// `checkInterval` for all connections together, and reconnects when it did.
public final class RedisSentinelResolver: Sendable {
    public let sentinels: [RedisURL]
    public let masterName: String
    private let timeout: Duration
    private let checkInterval: Duration
    private let known = Mutex<(primary: RedisNodeAddress?, firstSentinel: Int, checked: ContinuousClock.Instant?)>((nil, 0, nil))

    public init(sentinels: [RedisURL], masterName: String, timeout: Duration = .seconds(1), checkInterval: Duration = .milliseconds(250)) {
        precondition(!sentinels.isEmpty, "Sentinel needs at least one Sentinel address")
        self.sentinels = sentinels
        self.masterName = masterName
        self.timeout = timeout
        self.checkInterval = checkInterval
    }

    /// Whether the Sentinels name another primary than `primary` now. Asks them only when no
    /// connection did in the last `checkInterval`; a Sentinel that cannot be asked changes nothing.
    func hasMoved(from primary: RedisNodeAddress) -> Bool {
        let now = ContinuousClock.now
        let ask: Bool = known.withLock { known in
            if let checked = known.checked, checked.duration(to: now) < checkInterval { return false }
            known.checked = now
            return true
        }
        if ask { _ = try? askSentinels(one: true) }
        return known.withLock { $0.primary.map { $0 != primary } ?? true }
    }

    /// The primary's address: the known one, or a Sentinel's answer. Blocks; called on a
    /// connection's own thread.
    func primary() throws(RedisError) -> RedisNodeAddress {
        if let cached = known.withLock({ $0.primary }) { return cached }
        return try askSentinels()
    }

    /// `one`: ask only the Sentinel that answered last, briefly (the check of a connection in
    /// use, which must not hold it up for long when the Sentinels are unreachable).
    private func askSentinels(one: Bool = false) throws(RedisError) -> RedisNodeAddress {
        let first = known.withLock { $0.firstSentinel }
        var failures: [String] = []
        let timeout = one ? min(self.timeout, .milliseconds(250)) : self.timeout
        // The Sentinel that answered last is asked first.
        for offset in 0..<(one ? 1 : sentinels.count) {
            let index = (first + offset) % sentinels.count
            let sentinel = sentinels[index]
            do {
                let context = try HiredisContext.open(sentinel, connectTimeout: timeout, commandTimeout: timeout, passwordOptional: true)
                let reply = try context.call(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", RedisArgument(masterName)])
                guard case .array(let fields) = reply, fields.count == 2, let host = fields[0].string,
                    let port = fields[1].string.flatMap({ Int($0) })
                else {
                    failures.append("\(sentinel.address): does not know master \"\(masterName)\"")
                    continue
                }
                let primary = RedisNodeAddress(host: host, port: port)
                known.withLock { known in
                    known.primary = primary
                    known.firstSentinel = index
                    known.checked = .now
                }
                return primary
            } catch {
                failures.append("\(sentinel.address): \(error)")
            }
        }
        // The next check starts with another Sentinel.
        if one { known.withLock { $0.firstSentinel = (first + 1) % sentinels.count } }
        throw .connection("no Sentinel named the primary of \"\(masterName)\": \(failures.joined(separator: "; "))")
    }

    /// Forgets `primary` (it failed or is no longer primary); the next connect asks the Sentinels,
    /// starting with another one than the one that named it (it may be cut off from the others).
    func forget(_ primary: RedisNodeAddress) {
        known.withLock { known in
            guard known.primary == primary else { return }
            known.primary = nil
            known.firstSentinel = (known.firstSentinel + 1) % sentinels.count
        }
    }
}
