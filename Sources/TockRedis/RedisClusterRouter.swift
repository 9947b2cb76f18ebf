/// The decisions of the cluster client, as a state machine without I/O (valkey-swift's
/// `ValkeyClusterClientStateMachine` is the model): where a request goes, what a MOVED, ASK,
/// TRYAGAIN, CLUSTERDOWN or broken connection makes of it, and when the slot map is asked anew.
/// `RedisClusterClient` only runs what it returns.
public struct RedisClusterRouter: Sendable {
    public struct Settings: Sendable {
        /// Tries of one request in all: redirections, TRYAGAIN, CLUSTERDOWN and broken connections.
        public var maxAttempts = 12
        /// Tries of a request whose node cannot be reached or whose cluster is down. Few: until
        /// the cluster fails the node over (seconds), retrying only holds up the other masters'
        /// work in the same call; the request fails instead and its caller tries again later.
        public var maxUnavailableAttempts = 3
        /// The wait before the first retry of a TRYAGAIN, CLUSTERDOWN or broken connection; it
        /// doubles with each retry up to `maxRetryBackoff`.
        public var retryBackoff: Duration = .milliseconds(25)
        public var maxRetryBackoff: Duration = .milliseconds(500)
        /// The map is asked anew this often even when nothing went wrong: a resharding moves slots
        /// without anyone being told.
        public var refreshInterval: Duration = .seconds(10)
        /// Errors ask for the map at most this often, so that a storm of MOVED replies costs one refresh.
        public var minRefreshInterval: Duration = .milliseconds(100)

        public init() {}
    }

    /// What to do with a request next.
    public enum Next: Sendable, Equatable {
        /// Its reply (or error) is the answer.
        case done
        /// Send it to this node; `asking` sends ASKING first (a slot being imported there).
        case send(to: RedisNodeAddress, asking: Bool)
        /// Route it again by the map after this wait.
        case retry(after: Duration)
    }

    public let settings: Settings
    public private(set) var slots = RedisClusterSlots()
    private let seeds: [RedisNodeAddress]
    private var refreshWanted = true
    private var refreshing = false
    private var lastRefresh: ContinuousClock.Instant?

    public init(seeds: [RedisNodeAddress], settings: Settings = Settings()) {
        precondition(!seeds.isEmpty, "a cluster needs at least one seed node")
        self.seeds = seeds
        self.settings = settings
    }

    public var hasMap: Bool { !slots.shards.isEmpty }

    /// The master serving `slot`; a request without keys goes to the first master. Nil when the
    /// map does not know (the caller refreshes it first).
    public func target(slot: Int?) -> RedisNodeAddress? {
        guard let slot else { return slots.masters.first }
        return slots.master(ofSlot: slot)
    }

    // MARK: Refreshing the map

    /// The nodes to ask for the map, in order, when a refresh is due and none is under way (or
    /// when there is no map at all); nil otherwise. The caller reports back with
    /// `refreshed(_:at:)` or `refreshFailed(at:)`.
    public mutating func startRefresh(now: ContinuousClock.Instant) -> [RedisNodeAddress]? {
        let due: Bool
        if !hasMap {
            due = true
        } else if refreshing {
            due = false
        } else if let lastRefresh {
            let since = lastRefresh.duration(to: now)
            due = refreshWanted ? since >= settings.minRefreshInterval : since >= settings.refreshInterval
        } else {
            due = true
        }
        guard due else { return nil }
        refreshing = true
        // Known masters first (they answer fastest and know best), then replicas, then the seeds,
        // which may be all that is left after the whole cluster moved.
        var candidates: [RedisNodeAddress] = []
        for node in slots.masters + slots.nodes + seeds where !candidates.contains(node) { candidates.append(node) }
        return candidates
    }

    public mutating func refreshed(_ slots: RedisClusterSlots, at now: ContinuousClock.Instant) {
        self.slots = slots
        refreshing = false
        // A map with holes is one being set up or broken: ask again soon.
        refreshWanted = !slots.coversEverySlot
        lastRefresh = now
    }

    public mutating func refreshFailed(at now: ContinuousClock.Instant) {
        refreshing = false
        refreshWanted = true
        lastRefresh = now
    }

    // MARK: Replies

    /// What a request's reply makes of it: `attempt` is the number of times it was sent (1 for the first).
    public mutating func next(after reply: Result<RedisValue, RedisError>, slot: Int?, attempt: Int) -> Next {
        let message: String
        switch reply {
        case .success(.error(let text)), .failure(.server(let text)): message = text
        default: return .done
        }
        guard attempt < settings.maxAttempts else { return .done }
        let words = message.split(separator: " ")
        switch words.first {
        case "MOVED":
            guard words.count >= 3, let movedSlot = Int(words[1]), (0..<RedisHashSlot.count).contains(movedSlot),
                let node = RedisNodeAddress(words[2])
            else { return .done }
            slots.move(slot: movedSlot, to: node)
            refreshWanted = true
            return .send(to: node, asking: false)
        case "ASK":
            guard words.count >= 3, let node = RedisNodeAddress(words[2]) else { return .done }
            return .send(to: node, asking: true)
        case "TRYAGAIN":
            return .retry(after: backoff(attempt))
        case "CLUSTERDOWN":
            return nextWhileUnserved(attempt: attempt)
        default:
            return .done
        }
    }

    /// What becomes of a request whose slot no master serves now (`CLUSTERDOWN`, or a map with a
    /// hole): the map is asked anew, and the request tried a few times.
    public mutating func nextWhileUnserved(attempt: Int) -> Next {
        refreshWanted = true
        guard attempt < settings.maxUnavailableAttempts else { return .done }
        return .retry(after: backoff(attempt))
    }

    /// What a broken connection to `node` makes of the requests that were on it. A request that
    /// was never written to the socket is always safe to send again; one that was may have run,
    /// so only an idempotent one is. Either way the map is asked anew: the node may have died
    /// and its replica taken over.
    public mutating func nextAfterConnectionFailure(sent: Bool, idempotent: Bool, attempt: Int) -> Next {
        refreshWanted = true
        guard attempt < min(settings.maxAttempts, settings.maxUnavailableAttempts), !sent || idempotent else { return .done }
        return .retry(after: backoff(attempt))
    }

    private func backoff(_ attempt: Int) -> Duration {
        var wait = settings.retryBackoff
        for _ in 1..<max(attempt, 1) where wait < settings.maxRetryBackoff { wait = wait * 2 }
        return min(wait, settings.maxRetryBackoff)
    }
}
