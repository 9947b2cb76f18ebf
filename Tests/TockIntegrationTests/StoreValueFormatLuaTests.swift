import Testing
import TockCore
import TockRedis

@testable import TockStore

/// The values Swift and the store's Lua both read, across the boundary: what Swift writes, the
/// prelude's Lua reads and writes back the same; what Lua writes, Swift reads (real Redis).
@Suite("Store value formats between Swift and Lua")
struct StoreValueFormatLuaTests {
    /// Runs `body` after `prelude.lua`, with `ARGV` as given.
    func lua(_ body: String, _ args: [String]) async throws -> [String] {
        let client = try RedisClient(url: await sharedRedisURL())
        let script = try StoreScripts.withPrelude(name: "format-test", body)
        return try await client.evalSHA(script, args: args.map { RedisArgument($0) }, as: [String].self)
    }

    @Test("an occurrence key Swift writes, Lua reads as series and due, and writes back the same; and the other way round")
    func occurrenceKey() async throws {
        let key = OccurrenceKey.key(series: "s/1@x", dueMillis: 1_700_000_000_123)
        let read = try await lua(
            "local s, d = occurrenceOf(ARGV[1]) return { s, d, occurrenceKey(s, d), occurrenceKey(ARGV[2], tonumber(ARGV[3])) }",
            [
                key, "t-2", "1700000000999",
            ])
        #expect(read[0] == "s/1@x" && read[1] == "1700000000123" && read[2] == key)
        #expect(OccurrenceKey.parse(read[3]).map { "\($0.series)|\($0.dueMillis)" } == "t-2|1700000000999")
    }

    @Test("a series state Lua writes, Swift reads field by field; its stored text reads the same in Lua again")
    func seriesState() async throws {
        let texts = try await lua(
            "local a = seriesText('1700000000000', 3, 2, 1699999999000) local b = seriesText('42', 0, 1) "
                + "local s = seriesState(a) return { a, b, s.due, tostring(s.fired), tostring(s.generation), formatMillis(s.through) }", [])
        let marked = try #require(SeriesState(stored: texts[0]))
        #expect(marked.dueMillis == 1_700_000_000_000 && marked.fired == 3 && marked.generation == 2 && marked.publishedThrough == 1_699_999_999_000)
        let plain = try #require(SeriesState(stored: texts[1]))
        #expect(plain.dueMillis == 42 && plain.fired == 0 && plain.generation == 1 && plain.publishedThrough == nil)
        #expect(Array(texts[2...]) == ["1700000000000", "3", "2", "1699999999000"])
        let again = try await lua("local s = seriesState(ARGV[1]) return { s.due, tostring(s.fired), tostring(s.generation) }", [marked.stored])
        #expect(again == ["1700000000000", "3", "2"])
    }

    @Test("a lock id Swift makes is its token's in Lua, and no other token's")
    func lockID() async throws {
        let lock = LockID.make(token: "w:1/77", sequence: 9)
        let owned = try await lua(
            "return { tostring(isLockOf(ARGV[1], ARGV[2])), tostring(isLockOf(ARGV[1], ARGV[3])), tostring(isLockOf(ARGV[1], '')) }",
            [lock, "w:1/77", "w:1/7"])
        #expect(owned == ["true", "false", "false"])
    }
}
