import Foundation
import Testing
import TockRedis

/// Restarts and kills happen on a redis-server of the test's own, never on the shared stack.
@Suite(.timeLimit(.minutes(2))) struct RedisReconnectTests {
    let prefix = redisTestPrefix("reconnect")

    static func configuration(_ url: String) throws -> RedisConnection.Configuration {
        .init(url: try RedisURL(url), connectTimeout: .seconds(1), commandTimeout: .seconds(2))
    }

    @Test func sameClientWorksAfterRedisRestartAndKeyPersistedViaAOF() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = RedisClient(configuration: try Self.configuration(server.url))
        let bystander = RedisClient(configuration: try Self.configuration(server.url))
        let key = RedisArgument("\(prefix):durable")
        #expect(try await client.send(SET(key, "before restart")) == true)
        #expect(try await bystander.send(PING()) == "PONG")

        try await server.restart()

        // The first call after the restart, marked idempotent, succeeds on the same client.
        #expect(try await client.send(GET(key), idempotent: true) == Array("before restart".utf8))

        // A non-idempotent call on a connection that was open across the restart either succeeds
        // or fails with a retriable connection error, promptly; never hangs.
        let started = ContinuousClock.now
        do {
            let value = try await bystander.send(INCR("\(prefix):counter"))
            #expect(value == 1)
        } catch {
            guard case .connection = error else {
                Issue.record("expected .connection, got \(error)")
                return
            }
            #expect(error.isRetriable)
            let value = try await bystander.send(INCR("\(prefix):counter"))
            #expect(value == 1)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func callsFailRetriablyWhileRedisIsDownThenRecover() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = RedisClient(configuration: try Self.configuration(server.url))
        let script = try RedisTestScripts.load("incr_by")
        let key = RedisArgument("\(prefix):n")
        #expect(try await client.evalSHA(script, keys: [key], args: [1], idempotent: true) == .integer(1))

        server.kill()
        for _ in 0..<3 {
            let started = ContinuousClock.now
            await #expect {
                _ = try await client.evalSHA(script, keys: [key], args: [1], idempotent: true)
            } throws: { error in
                guard let error = error as? RedisError, case .connection = error else { return false }
                return error.isRetriable
            }
            // Refused connections fail at once; only the reconnect backoff (≤ 1 s) is waited.
            #expect(ContinuousClock.now - started < .seconds(3))
        }

        try await server.launch()
        // The restarted server has lost its script cache: the NOSCRIPT reload happens on the new connection.
        #expect(try await eventually { try await client.evalSHA(script, keys: [key], args: [1], idempotent: true) } == .integer(2))
    }

    @Test func silentServerFailsTheCallAfterTheCommandTimeoutInsteadOfHanging() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let admin = try RedisClient(url: server.url)
        let client = RedisClient(configuration: try Self.configuration(server.url).with(commandTimeout: .milliseconds(300)))
        #expect(try await client.send(PING()) == "PONG")

        // Paused, Redis accepts connections and reads commands but answers none (not even UNPAUSE).
        _ = try await admin.send(RawRedisCommand("CLIENT", "PAUSE", 1500, "ALL"))
        let started = ContinuousClock.now
        await #expect {
            _ = try await client.send(GET("\(prefix):k"))
        } throws: { error in
            guard let error = error as? RedisError, case .connection(let message, _) = error else { return false }
            return error.isRetriable && message.contains("timed out")
        }
        #expect(ContinuousClock.now - started < .seconds(1))
        // Once the pause ends, the same client works again.
        #expect(try await eventually { try await client.send(PING()) } == "PONG")
    }

    /// The server hangs up while a large command is still being written: the write fails with
    /// ECONNRESET/EPIPE (SIGPIPE is blocked on the connection's thread), the call fails, and the
    /// next call reconnects.
    @Test func serverHangingUpDuringAWriteFailsTheCallAndTheNextOneReconnects() async throws {
        let server = try await RedisTestServer.start(["--proto-max-bulk-len", "1mb"])
        defer { server.stop() }
        let client = try RedisClient(url: server.url)
        let huge = RedisArgument([UInt8](repeating: 0x61, count: 32 << 20))
        for _ in 0..<3 {
            do {
                _ = try await client.send(SET("\(prefix):huge", huge))
                Issue.record("a value over proto-max-bulk-len was accepted")
            } catch {
                // Redis answers "invalid bulk length" and hangs up; which of the two we see depends on timing.
                switch error {
                case .connection, .server: break
                default: Issue.record("unexpected \(error)")
                }
            }
            #expect(try await client.send(PING()) == "PONG")
        }
    }

    /// Breaks a connection in the middle of a call (CLIENT KILL while it blocks in BLPOP) to show
    /// that an idempotent call is sent again on a new connection, and a plain one is not.
    @Test func idempotentCallIsRetriedOnceAfterItsConnectionBreaks() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let admin = try RedisClient(url: server.url)
        let list = RedisArgument("\(prefix):queue")

        for idempotent in [true, false] {
            let blocked = RedisClient(configuration: try Self.configuration(server.url).with(commandTimeout: .seconds(10)))
            _ = try await blocked.send(RawRedisCommand("CLIENT", "SETNAME", "victim"))
            let call = Task { try await blocked.send(RawRedisCommand("BLPOP", list, 5), idempotent: idempotent) }
            let firstID = try await waitForBlockedClient(named: "victim", admin)
            _ = try await admin.send(RawRedisCommand("CLIENT", "KILL", "ID", RedisArgument(firstID)))
            if idempotent {
                // The retry runs on a fresh connection, which has no name (CLIENT SETNAME is not replayed).
                _ = try await waitForBlockedClient(named: "", admin)
                _ = try await admin.send(RawRedisCommand("RPUSH", list, "item"))
                #expect(try await call.value == .array([.bulkString(list.bytes), .bulkString(Array("item".utf8))]))
            } else {
                let result = await call.result
                #expect(throws: RedisError.self) { try result.get() }
                if case .failure(let error as RedisError) = result {
                    #expect(error.isRetriable)
                    guard case .connection = error else {
                        Issue.record("expected .connection, got \(error)")
                        continue
                    }
                }
            }
        }
    }

    /// The id of a client blocked in BLPOP with the given name, once it shows in CLIENT LIST.
    private func waitForBlockedClient(named name: String, _ admin: RedisClient) async throws -> Int64 {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let clients = try await admin.send(RawRedisCommand("CLIENT", "LIST", "TYPE", "normal"), as: String.self)
            for line in clients.split(separator: "\n") {
                var fields: [Substring: Substring] = [:]
                for field in line.split(separator: " ") {
                    guard let eq = field.firstIndex(of: "=") else { continue }
                    fields[field[..<eq]] = field[field.index(after: eq)...]
                }
                if fields["cmd"] == "blpop", fields["name"] == Substring(name), let id = fields["id"].flatMap({ Int64($0) }) {
                    return id
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw RedisError.connection("no client named \"\(name)\" blocked in BLPOP")
    }
}

/// `body`'s first success within `seconds`, retrying retriable errors; the last error otherwise.
func eventually<T>(within seconds: Int = 10, _ body: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while true {
        do {
            return try await body()
        } catch {
            guard (error as? RedisError)?.isRetriable == true, ContinuousClock.now < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension RedisConnection.Configuration {
    func with(commandTimeout: Duration) -> Self {
        var copy = self
        copy.commandTimeout = commandTimeout
        return copy
    }
}
