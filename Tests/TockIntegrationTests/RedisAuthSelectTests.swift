import Testing
import TockRedis

@Suite struct RedisAuthSelectTests {
    let prefix = redisTestPrefix("select")

    @Test func urlWithDatabaseThreeSelectsDatabaseThree() async throws {
        let db3 = try RedisClient(url: await sharedRedisURL() + "/3")
        let db0 = try RedisClient(url: await sharedRedisURL())
        #expect(db3.configuration.connection.url.database == 3)

        let info = try await db3.send(RawRedisCommand("CLIENT", "INFO"), as: String.self)
        #expect(info.split(separator: " ").contains("db=3"), "CLIENT INFO: \(info)")

        let key = RedisArgument("\(prefix):only-in-3")
        #expect(try await db3.send(SET(key, "three", px: 60_000)) == true)
        #expect(try await db3.send(GET(key)) == Array("three".utf8))
        #expect(try await db0.send(EXISTS(key)) == 0)
        #expect(try await db3.send(DEL(key)) == 1)
    }

    @Test func authenticatesWithPasswordOnlyAndWithACLUserThenSelects() async throws {
        let server = try await RedisTestServer.start([
            "--requirepass", "s3cret",
            "--user", "tock", "on", ">p@ss:w/rd", "~*", "&*", "+@all",
        ])
        defer { server.stop() }
        let host = "127.0.0.1:\(server.port)"

        let defaultUser = try RedisClient(url: "redis://:s3cret@\(host)")
        #expect(try await defaultUser.send(RawRedisCommand("ACL", "WHOAMI"), as: String.self) == "default")

        let aclUser = try RedisClient(url: "redis://tock:p%40ss%3Aw%2Frd@\(host)/5")
        try await aclUser.connect()
        #expect(try await aclUser.send(RawRedisCommand("ACL", "WHOAMI"), as: String.self) == "tock")
        let info = try await aclUser.send(RawRedisCommand("CLIENT", "INFO"), as: String.self)
        #expect(info.split(separator: " ").contains("db=5"))

        // Wrong or missing credentials are server errors, and not worth retrying.
        let wrong = try RedisClient(url: "redis://tock:nope@\(host)")
        await #expect {
            try await wrong.connect()
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.serverErrorCode == "WRONGPASS" && !error.isRetriable
        }
        let anonymous = try RedisClient(url: "redis://\(host)")
        await #expect(throws: RedisError.self) { _ = try await anonymous.send(GET("k")) }
    }
}
