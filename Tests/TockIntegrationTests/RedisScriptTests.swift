import Testing
import TockRedis

@Suite struct RedisScriptTests {
    let prefix = redisTestPrefix("script")

    @Test func scriptLoadsFromBundleAndEvalSHAReturnsItsReply() async throws {
        let client = try RedisClient(url: await sharedRedisURL())
        let echo = try RedisTestScripts.load("echo")
        #expect(echo.name == "echo")
        let reply = try await client.evalSHA(echo, keys: ["\(prefix):k"], args: ["a", RedisArgument([0, 255, 0])])
        #expect(reply == .array([.bulkString(Array("\(prefix):k".utf8)), .bulkString(Array("a".utf8)), .bulkString([0, 255, 0])]))
        #expect(try await client.evalSHA(echo, args: ["x", "y"], as: [String].self) == ["x", "y"])

        // A script's error reply is thrown; a script that does not compile fails the same way.
        let fail = try RedisTestScripts.load("fail")
        await #expect(throws: RedisError.server("TOCKFAIL boom")) { _ = try await client.evalSHA(fail, args: ["boom"]) }
        let broken = RedisScript(name: "broken", source: "return (")
        await #expect(throws: RedisError.self) { _ = try await client.evalSHA(broken) }
    }

    @Test func thousandPipelinedEvalSHAReturnThousandCorrectResults() async throws {
        let client = try RedisClient(url: await sharedRedisURL())
        let double = try RedisTestScripts.load("set_and_double")
        let incr = try RedisTestScripts.load("incr_by")
        let counter = RedisArgument("\(prefix):counter")

        let calls = (0..<1000).map { i in
            RedisScriptCall(double, keys: [RedisArgument("\(prefix):k:\(i)")], args: [RedisArgument(i)])
        }
        let results = try await client.pipelineEvalSHA(calls)
        #expect(results.count == 1000)
        for (i, result) in results.enumerated() {
            #expect(try result.get() == .integer(Int64(2 * i)))
        }
        #expect(try await client.send(GET("\(prefix):k:777")) == Array("777".utf8))

        // One script on one key: the replies are running sums, so they also prove the order.
        let sums = try await client.pipelineEvalSHA((1...1000).map { (script: incr, keys: [counter], args: [RedisArgument($0)]) })
        var expected: Int64 = 0
        for (i, result) in sums.enumerated() {
            expected += Int64(i + 1)
            #expect(try result.get() == .integer(expected))
        }
        #expect(try await client.send(GET(counter)) == Array("500500".utf8))

        _ = try await client.send(DEL([counter] + (0..<1000).map { RedisArgument("\(prefix):k:\($0)") }))
    }

    /// SCRIPT FLUSH runs on a server of the test's own: on the shared one it would make the
    /// other suites' scripts reload too.
    @Test func evalSHAReloadsScriptAfterScriptFlush() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = try RedisClient(url: server.url)
        let incr = try RedisTestScripts.load("incr_by")
        let key = RedisArgument("\(prefix):n")

        #expect(try await client.evalSHA(incr, keys: [key], args: [1]) == .integer(1))
        let sha = try await client.send(SCRIPT.LOAD(incr.source))
        _ = try await client.send(SCRIPT.FLUSH())
        #expect(try await client.send(RawRedisCommand("SCRIPT", "EXISTS", RedisArgument(sha)), as: [Int64].self) == [0])

        #expect(try await client.evalSHA(incr, keys: [key], args: [1]) == .integer(2))
        #expect(try await client.evalSHA(incr, keys: [key], args: [1]) == .integer(3))
    }

    @Test func pipelineEvalSHAReloadsScriptsAfterScriptFlush() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = try RedisClient(url: server.url)
        let incr = try RedisTestScripts.load("incr_by")
        let double = try RedisTestScripts.load("set_and_double")
        let fail = try RedisTestScripts.load("fail")
        let key = RedisArgument("\(prefix):n")

        func batch(_ round: Int) -> [RedisScriptCall] {
            (0..<10).flatMap { i -> [RedisScriptCall] in
                [
                    RedisScriptCall(incr, keys: [key], args: [1]),
                    RedisScriptCall(double, keys: [RedisArgument("\(prefix):d:\(i)")], args: [RedisArgument(round * 100 + i)]),
                ]
            } + [RedisScriptCall(fail, args: ["expected"])]
        }
        func check(_ results: [Result<RedisValue, RedisError>], round: Int) throws {
            #expect(results.count == 21)
            for i in 0..<10 {
                #expect(try results[2 * i].get() == .integer(Int64(round * 10 + i + 1)))
                #expect(try results[2 * i + 1].get() == .integer(Int64(2 * (round * 100 + i))))
            }
            #expect(throws: RedisError.server("TOCKFAIL expected")) { try results[20].get() }
        }

        try check(try await client.pipelineEvalSHA(batch(0)), round: 0)
        _ = try await client.send(SCRIPT.FLUSH())
        try check(try await client.pipelineEvalSHA(batch(1)), round: 1)
        _ = try await client.send(SCRIPT.FLUSH())
        try check(try await client.pipelineEvalSHA(batch(2)), round: 2)
    }
}
