import Testing
import TockCore

@testable import TockStore

/// The values Swift and the store's Lua both read, as Swift writes and reads them. (The Lua side
/// reads them back in `StoreValueFormatLuaTests`, against Redis.)
@Suite("Store value formats: occurrence keys, series states and lock ids round-trip in Swift")
struct StoreValueFormatTests {
    @Test("an occurrence key names its series and due time, and reads back; a message id is none")
    func occurrenceKey() {
        for (series, due) in [("s-1", Int64(1_700_000_000_123)), ("a/b@c", 0), ("x", -5)] {
            let key = OccurrenceKey.key(series: series, dueMillis: due)
            #expect(OccurrenceKey.parse(key).map { [$0.series, String($0.dueMillis)] } == [series, String(due)])
            let published = OccurrenceKey.publishedId(series: series, dueMillis: due)
            #expect(due < 0 || OccurrenceKey.parsePublished(published).map { [$0.series, String($0.dueMillis)] } == [series, String(due)])
        }
        #expect(OccurrenceKey.parse("plain-id") == nil && OccurrenceKey.parse("id notanumber") == nil)
    }

    @Test("a series state reads every field of due:fired:generation[:mark], the old A mark included, and keeps its text")
    func seriesState() throws {
        let marked = try #require(SeriesState(stored: "1700000000000:3:2:1699999999000"))
        #expect(marked.dueMillis == 1_700_000_000_000 && marked.fired == 3 && marked.generation == 2)
        #expect(marked.publishedThrough == 1_699_999_999_000 && !marked.published && marked.stored == "1700000000000:3:2:1699999999000")
        let old = try #require(SeriesState(stored: "5:1:0:A"))
        #expect(old.publishedThrough == 5 && old.published)
        let none = try #require(SeriesState(stored: "-1:0:7"))
        #expect(none.dueMillis == -1 && none.publishedThrough == nil && none.generation == 7)
        for bad in ["", "1:2", "1:2:3:4:5", "a:1:1", "1:1:1:B"] { #expect(SeriesState(stored: bad) == nil, "\(bad)") }
    }

    @Test("a lock id carries the token of the process that took it, whatever the worker id holds")
    func lockID() {
        let token = "host:with:colons/1234"
        let lock = LockID.make(token: token, sequence: 42)
        #expect(lock == "host:with:colons/1234:42")
        #expect(LockID.token(of: lock) == token)
        #expect(LockID.token(of: "no-sequence") == nil && LockID.token(of: "t:x") == nil)
    }
}
