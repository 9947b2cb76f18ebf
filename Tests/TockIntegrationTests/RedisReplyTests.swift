import Testing
import TockRedis

/// Typed replies and plain commands against the shared stack's Redis.
@Suite struct RedisReplyTests {
    let client: RedisClient
    let prefix = redisTestPrefix("reply")

    init() async throws {
        client = try RedisClient(url: await sharedRedisURL())
    }

    @Test func integerReply() async throws {
        let key = RedisArgument("\(prefix):counter")
        #expect(try await client.send(INCR(key)) == 1)
        #expect(try await client.send(INCR(key)) == 2)
        #expect(try await client.send(RawRedisCommand("INCRBY", key, 40)) == .integer(42))
        // A counter read back with GET is a bulk string; Int64 decodes it too.
        #expect(try await client.send(RawRedisCommand("GET", key), as: Int64.self) == 42)
        #expect(try await client.send(DEL(key)) == 1)
    }

    @Test func binaryBulkStringWithNULBytes() async throws {
        let key = RedisArgument("\(prefix):binary")
        let payload: [UInt8] = [0, 1, 2, 0, 255, 0x0d, 0x0a, 0, 0x80]
        #expect(try await client.send(SET(key, RedisArgument(payload))) == true)
        #expect(try await client.send(GET(key)) == payload)
        #expect(try await client.send(RawRedisCommand("GET", key)) == .bulkString(payload))
        // Empty bulk string is not null.
        #expect(try await client.send(SET(key, RedisArgument([UInt8]()))) == true)
        #expect(try await client.send(GET(key)) == [])
        _ = try await client.send(DEL(key))
    }

    @Test func nullReply() async throws {
        let key = RedisArgument("\(prefix):missing")
        #expect(try await client.send(GET(key)) == nil)
        #expect(try await client.send(RawRedisCommand("GET", key)) == .null)
        // SET NX on an existing key answers null, decoded as false.
        #expect(try await client.send(SET(key, "a", px: 60_000, condition: .ifNotExists)) == true)
        #expect(try await client.send(SET(key, "b", condition: .ifNotExists)) == false)
        #expect(try await client.send(SET("\(prefix):other", "b", condition: .ifExists)) == false)
        let ttl = try await client.send(RawRedisCommand("PTTL", key), as: Int64.self)
        #expect(ttl > 0 && ttl <= 60_000)
        #expect(try await client.send(EXISTS(key, "\(prefix):other")) == 1)
        _ = try await client.send(DEL(key))
    }

    @Test func arrayReply() async throws {
        let key = RedisArgument("\(prefix):list")
        _ = try await client.send(RawRedisCommand("RPUSH", key, "a", "", RedisArgument([0, 7])))
        let raw = try await client.send(RawRedisCommand("LRANGE", key, 0, -1))
        #expect(raw == .array([.bulkString(Array("a".utf8)), .bulkString([]), .bulkString([0, 7])]))
        #expect(try await client.send(RawRedisCommand("LRANGE", key, 0, 1), as: [String].self) == ["a", ""])
        #expect(try await client.send(RawRedisCommand("LRANGE", "\(prefix):nolist", 0, -1)) == .array([]))

        let hash = RedisArgument("\(prefix):hash")
        #expect(try await client.send(HSET(hash, fields: [("f1", "v1"), ("f2", RedisArgument([0]))])) == 2)
        #expect(try await client.send(HGETALL(hash)) == ["f1": Array("v1".utf8), "f2": [0]])
        #expect(try await client.send(DEL(key, hash)) == 2)
    }

    @Test func errorReplyIsThrownAsServerError() async throws {
        let key = RedisArgument("\(prefix):text")
        _ = try await client.send(SET(key, "not a number"))
        await #expect {
            _ = try await client.send(INCR(key))
        } throws: { error in
            guard let error = error as? RedisError, case .server(let message) = error else { return false }
            return message.hasPrefix("ERR") && error.serverErrorCode == "ERR" && !error.isRetriable && !error.isNoScript
        }
        // A wrong-typed decode is an unexpectedReply, not a crash.
        await #expect(throws: RedisError.self) { _ = try await client.send(RawRedisCommand("GET", key), as: Int64.self) }
        // The connection is still usable after an error reply.
        #expect(try await client.send(PING()) == "PONG")
        _ = try await client.send(DEL(key))
    }

    @Test func pipelineKeepsErrorRepliesInPlace() async throws {
        let key = RedisArgument("\(prefix):pipe")
        let results = try await client.pipeline([
            SET(key, "x"), INCR(key), GET(key), RawRedisCommand("NOSUCHCOMMAND"), DEL(key),
        ])
        #expect(results.count == 5)
        #expect(try results[0].get() == .simpleString("OK"))
        #expect(throws: RedisError.self) { try results[1].get() }
        #expect(try results[2].get() == .bulkString(Array("x".utf8)))
        #expect(throws: RedisError.self) { try results[3].get() }
        #expect(try results[4].get() == .integer(1))

        // The typed variant decodes each reply to its command's Response.
        let (set, incr, get, del) = try await client.pipeline(SET(key, "5"), INCR(key), GET(key), DEL(key))
        #expect(try set.get() == true)
        #expect(try incr.get() == 6)
        #expect(try get.get() == Array("6".utf8))
        #expect(try del.get() == 1)
    }

    @Test func poolOfConnectionsServesConcurrentCalls() async throws {
        let pool = try RedisClient(url: await sharedRedisURL(), poolSize: 4)
        let key = RedisArgument("\(prefix):pooled")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { _ = try await pool.send(INCR(key)) } }
            try await group.waitForAll()
        }
        #expect(try await pool.send(GET(key)) == Array("200".utf8))
        _ = try await pool.send(DEL(key))
        await pool.close()
        await #expect(throws: RedisError.closed) { _ = try await pool.send(PING()) }
    }
}
