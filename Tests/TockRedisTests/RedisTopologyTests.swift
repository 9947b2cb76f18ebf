import Testing
import TockRedis

@Suite struct RedisTopologyTests {
    @Test func standaloneIsARedisURL() throws {
        #expect(try RedisTopology("redis://:pw@h:7000/2") == .standalone(RedisURL(host: "h", port: 7000, password: "pw", database: 2)))
    }

    @Test func clusterTakesSeedsWithSharedCredentials() throws {
        let topology = try RedisTopology("redis+cluster://tock:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002")
        #expect(
            topology
                == .cluster(seeds: [
                    RedisURL(host: "10.0.0.1", port: 7000, user: "tock", password: "s@cret"),
                    RedisURL(host: "10.0.0.2", port: 6379, user: "tock", password: "s@cret"),
                    RedisURL(host: "::1", port: 7002, user: "tock", password: "s@cret"),
                ]))
        #expect(topology.description == "redis+cluster://tock:***@10.0.0.1:7000,10.0.0.2:6379,[::1]:7002")
    }

    @Test func sentinelTakesSentinelsAndMasterName() throws {
        let topology = try RedisTopology("redis+sentinel://:pw@s1:26379,s2:26380/tock")
        #expect(
            topology
                == .sentinel(
                    sentinels: [RedisURL(host: "s1", port: 26379, password: "pw"), RedisURL(host: "s2", port: 26380, password: "pw")],
                    masterName: "tock"))
        #expect(topology.description == "redis+sentinel://:***@s1:26379,s2:26380/tock")
    }

    @Test(arguments: [
        ("redis+cluster://h:1/0", "no database"),
        ("redis+cluster://h:1,,h:2", "missing host"),
        ("redis+sentinel://s1:26379", "master's name"),
        ("redis+sentinel://s1:26379/a/b", "master's name"),
        ("redis://h1:1,h2:2", "one host"),
        ("redis+tls://h:1", "unsupported scheme"),
        ("redis+cluster://h:99999", "port"),
    ])
    func rejectsBadURLs(input: String, reason: String) {
        expectInvalidURL({ _ = try RedisTopology(input) }) { $0.contains(reason) }
    }

    @Test func errorsNeverShowThePassword() {
        #expect {
            _ = try RedisTopology("redis+cluster://u:topsecret@h:1/3")
        } throws: { error in
            "\(error)".contains("***") && !"\(error)".contains("topsecret")
        }
    }
}
