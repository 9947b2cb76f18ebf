import Testing
import TockRedis

@Suite struct RedisClusterSlotsTests {
    static func node(_ host: String, _ port: Int64, _ id: String) -> RedisValue {
        .array([.bulkString(Array(host.utf8)), .integer(port), .bulkString(Array(id.utf8)), .array([])])
    }

    @Test("a CLUSTER SLOTS reply gives each slot's master and its replicas")
    func parsesClusterSlots() throws {
        let reply = RedisValue.array([
            .array([.integer(0), .integer(5460), Self.node("127.0.0.1", 7000, "a"), Self.node("127.0.0.1", 7003, "d")]),
            .array([.integer(5461), .integer(10922), Self.node("127.0.0.1", 7001, "b"), Self.node("127.0.0.1", 7004, "e")]),
            .array([.integer(10923), .integer(16383), Self.node("", 7002, "c")]),
        ])
        let slots = try RedisClusterSlots(clusterSlotsReply: reply, answeredBy: RedisNodeAddress(host: "10.1.1.1", port: 7002))
        #expect(slots.master(ofSlot: 0) == RedisNodeAddress(host: "127.0.0.1", port: 7000))
        #expect(slots.master(ofSlot: 5461) == RedisNodeAddress(host: "127.0.0.1", port: 7001))
        // An empty host means the node that answered.
        #expect(slots.master(ofSlot: 16383) == RedisNodeAddress(host: "10.1.1.1", port: 7002))
        #expect(slots.shards[0].replicas == [RedisNodeAddress(host: "127.0.0.1", port: 7003)])
        #expect(slots.coversEverySlot)
        #expect(slots.slotCounts[RedisNodeAddress(host: "127.0.0.1", port: 7000)] == 5461)
    }

    @Test("a master listed twice (several ranges) is one shard; unserved slots show as holes")
    func rangesAndHoles() throws {
        let reply = RedisValue.array([
            .array([.integer(0), .integer(99), Self.node("h", 1, "a")]),
            .array([.integer(200), .integer(16383), Self.node("h", 1, "a")]),
            .array([.integer(100), .integer(150), Self.node("?", 2, "b")]),
        ])
        let slots = try RedisClusterSlots(clusterSlotsReply: reply, answeredBy: RedisNodeAddress(host: "x", port: 9))
        #expect(slots.masters == [RedisNodeAddress(host: "h", port: 1)])
        #expect(slots.master(ofSlot: 120) == nil)
        #expect(!slots.coversEverySlot)
    }

    @Test func rejectsMalformedReplies() {
        #expect(throws: RedisError.self) { try RedisClusterSlots(clusterSlotsReply: .integer(1), answeredBy: RedisNodeAddress(host: "h", port: 1)) }
        #expect(throws: RedisError.self) {
            try RedisClusterSlots(
                clusterSlotsReply: .array([.array([.integer(5), .integer(99999), Self.node("h", 1, "a")])]),
                answeredBy: RedisNodeAddress(host: "h", port: 1))
        }
    }
}

@Suite struct RedisClusterRouterTests {
    static let a = RedisNodeAddress(host: "127.0.0.1", port: 7000)
    static let b = RedisNodeAddress(host: "127.0.0.1", port: 7001)
    static let c = RedisNodeAddress(host: "127.0.0.1", port: 7002)
    static let start = ContinuousClock.now

    static func known() -> RedisClusterRouter {
        var router = RedisClusterRouter(seeds: [a])
        #expect(router.startRefresh(now: start) != nil)
        router.refreshed(RedisClusterSlots([(0, 8191, .init(master: a)), (8192, 16383, .init(master: b, replicas: [c]))]), at: start)
        return router
    }

    @Test("without a map the seeds are asked; with one, masters first, then replicas, then seeds")
    func refreshCandidates() {
        var router = RedisClusterRouter(seeds: [Self.c, Self.a])
        #expect(router.startRefresh(now: Self.start) == [Self.c, Self.a])
        var knownRouter = Self.known()
        #expect(knownRouter.startRefresh(now: Self.start + .seconds(11)) == [Self.a, Self.b, Self.c])
    }

    @Test("the map is asked again periodically, and after errors at most every minRefreshInterval")
    func refreshTiming() {
        var router = Self.known()
        #expect(router.startRefresh(now: Self.start + .seconds(1)) == nil)
        #expect(router.startRefresh(now: Self.start + .seconds(10)) != nil)
        // A refresh under way is not started twice.
        #expect(router.startRefresh(now: Self.start + .seconds(10)) == nil)
        router.refreshed(router.slots, at: Self.start + .seconds(10))
        _ = router.next(after: .success(.error("MOVED 1 127.0.0.1:7001")), slot: 1, attempt: 1)
        #expect(router.startRefresh(now: Self.start + .seconds(10) + .milliseconds(50)) == nil)
        #expect(router.startRefresh(now: Self.start + .seconds(10) + .milliseconds(100)) != nil)
        router.refreshFailed(at: Self.start + .seconds(11))
        #expect(router.startRefresh(now: Self.start + .seconds(11) + .milliseconds(100)) != nil)
    }

    @Test("routing by slot; a keyless request goes to the first master")
    func routes() {
        let router = Self.known()
        #expect(router.target(slot: 0) == Self.a)
        #expect(router.target(slot: 16383) == Self.b)
        #expect(router.target(slot: nil) == Self.a)
        #expect(RedisClusterRouter(seeds: [Self.a]).target(slot: 5) == nil)
    }

    @Test("MOVED updates the slot at once and resends there; the rest of the map stays")
    func moved() {
        var router = Self.known()
        #expect(router.next(after: .success(.error("MOVED 42 127.0.0.1:7002")), slot: 42, attempt: 1) == .send(to: Self.c, asking: false))
        #expect(router.target(slot: 42) == Self.c)
        #expect(router.target(slot: 43) == Self.a)
    }

    @Test("ASK resends once with ASKING and leaves the map alone")
    func ask() {
        var router = Self.known()
        #expect(router.next(after: .failure(.server("ASK 42 127.0.0.1:7001")), slot: 42, attempt: 1) == .send(to: Self.b, asking: true))
        #expect(router.target(slot: 42) == Self.a)
    }

    @Test("TRYAGAIN and CLUSTERDOWN retry after a growing, capped backoff; CLUSTERDOWN only a few times")
    func backoff() {
        var router = Self.known()
        #expect(
            router.next(after: .success(.error("TRYAGAIN Multiple keys request during rehashing of slot")), slot: 1, attempt: 1)
                == .retry(after: .milliseconds(25)))
        #expect(router.next(after: .success(.error("CLUSTERDOWN The cluster is down")), slot: 1, attempt: 2) == .retry(after: .milliseconds(50)))
        #expect(router.next(after: .success(.error("TRYAGAIN")), slot: 1, attempt: 11) == .retry(after: .milliseconds(500)))
        // A cluster that is down fails the request after a few tries: its caller tries later.
        #expect(router.next(after: .success(.error("CLUSTERDOWN The cluster is down")), slot: 1, attempt: 3) == .done)
        // So does a slot the map has no master for.
        #expect(router.nextWhileUnserved(attempt: 1) == .retry(after: .milliseconds(25)))
        #expect(router.nextWhileUnserved(attempt: 3) == .done)
    }

    @Test("after maxAttempts, or for any other reply, the reply is the answer")
    func done() {
        var router = Self.known()
        #expect(router.next(after: .success(.error("MOVED 42 127.0.0.1:7002")), slot: 42, attempt: 12) == .done)
        #expect(router.next(after: .success(.error("ERR wrong number of arguments")), slot: 1, attempt: 1) == .done)
        #expect(router.next(after: .success(.integer(1)), slot: 1, attempt: 1) == .done)
        #expect(router.next(after: .success(.error("MOVED garbage")), slot: 1, attempt: 1) == .done)
    }

    @Test("a broken connection retries what was not sent, or what is idempotent, a few times; never a sent write")
    func brokenConnection() {
        var router = Self.known()
        #expect(router.nextAfterConnectionFailure(sent: false, idempotent: false, attempt: 1) == .retry(after: .milliseconds(25)))
        #expect(router.nextAfterConnectionFailure(sent: true, idempotent: true, attempt: 2) == .retry(after: .milliseconds(50)))
        #expect(router.nextAfterConnectionFailure(sent: true, idempotent: false, attempt: 1) == .done)
        #expect(router.nextAfterConnectionFailure(sent: false, idempotent: true, attempt: 3) == .done)
    }
}
