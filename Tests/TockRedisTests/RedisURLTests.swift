import Testing
import TockRedis

@Suite struct RedisURLTests {
    @Test func parsesHostPortAndDefaults() throws {
        let url = try RedisURL("redis://127.0.0.1:6380")
        #expect(url == RedisURL(host: "127.0.0.1", port: 6380))
        #expect(try RedisURL("redis://cache.internal") == RedisURL(host: "cache.internal", port: 6379, database: 0))
        #expect(try RedisURL("redis://localhost/") == RedisURL(host: "localhost"))
        #expect(try RedisURL("REDIS://[::1]:7000/2") == RedisURL(host: "::1", port: 7000, database: 2))
    }

    @Test func parsesUserPasswordAndDatabase() throws {
        #expect(
            try RedisURL("redis://tock:secret@10.0.0.5:6390/3")
                == RedisURL(host: "10.0.0.5", port: 6390, user: "tock", password: "secret", database: 3))
        #expect(try RedisURL("redis://:secret@host") == RedisURL(host: "host", password: "secret"))
        // Percent-decoding of both parts, and a raw "@" in the password (the last "@" ends the credentials).
        #expect(
            try RedisURL("redis://us%65r:p%40ss%3Aw%2Frd@host:1/15")
                == RedisURL(host: "host", port: 1, user: "user", password: "p@ss:w/rd", database: 15))
        #expect(try RedisURL("redis://:a@b@host").password == "a@b")
    }

    @Test func descriptionHidesPassword() throws {
        let url = try RedisURL("redis://tock:secret@host:6390/3")
        #expect(url.description == "redis://tock:***@host:6390/3")
        #expect(!url.description.contains("secret"))
    }

    @Test(arguments: [
        ("127.0.0.1:6379", "missing scheme"),
        ("http://host:6379", "unsupported scheme"),
        ("rediss://host:6379", "unsupported scheme"),
        ("redis://", "missing host"),
        ("redis://:6379", "missing host"),
        ("redis://host:port", "port"),
        ("redis://host:0", "port"),
        ("redis://host:70000", "port"),
        ("redis://host:6379/x", "database"),
        ("redis://host:6379/-1", "database"),
        ("redis://host:6379/1?timeout=3", "query"),
        ("redis://secretonly@host", "credentials"),
        ("redis://user:@host", "empty password"),
        ("redis://:%zz@host", "percent-encoding"),
        ("redis://[::1:6379", "IPv6"),
    ])
    func rejectsBadURLs(input: String, reason: String) {
        expectInvalidURL({ _ = try RedisURL(input) }) { $0.contains(reason) }
    }

    @Test func invalidURLMessageNeverShowsThePassword() {
        expectInvalidURL({ _ = try RedisURL("redis://user:topsecret@host:notaport") }) { !$0.contains("topsecret") && $0.contains("notaport") }
    }
}

@Suite("RedisError classification")
struct RedisErrorClassificationTests {
    @Test("connection errors carry hiredis's code and are retriable, not fatal")
    func connectionErrors() {
        let error = RedisError.connection("reset", code: 1)
        #expect(error.hiredisCode == 1)
        #expect(error.isRetriable && !error.isFatal)
    }

    @Test("bad credentials, a bad URL and a closed client are fatal, not retriable")
    func fatalErrors() {
        for error in [RedisError.server("WRONGPASS invalid username-password pair"), .invalidURL("x"), .closed] {
            #expect(error.isFatal && !error.isRetriable, "\(error)")
        }
        #expect(RedisError.server("LOADING Redis is loading").isRetriable)
    }
}
