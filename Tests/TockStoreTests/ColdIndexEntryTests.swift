import Testing
import TockStore

@Suite("A cold index entry: 12-byte fingerprint, 10-byte value")
struct ColdIndexEntryTests {
    @Test("the value holds the due time in 6 bytes and the version in 4, read back exactly")
    func value() throws {
        let value = ColdIndexEntry.value(dueMillis: 1_796_000_000_123, version: 0xDEAD_BEEF)
        #expect(value.count == 10)
        let decoded = try #require(ColdIndexEntry.decode(value))
        #expect(decoded.dueMillis == 1_796_000_000_123 && decoded.version == 0xDEAD_BEEF)
        #expect(ColdIndexEntry.decode([1, 2]) == nil)
    }

    @Test("fingerprints are 12 bytes, the same for one id and different for 100,000 ids")
    func fingerprints() {
        #expect(ColdIndexEntry.fingerprint(of: "a") == ColdIndexEntry.fingerprint(of: "a"))
        #expect(ColdIndexEntry.fingerprint(of: "a").count == 12)
        #expect(Set((0..<100_000).map { ColdIndexEntry.fingerprint(of: "id-\($0)") }).count == 100_000)
    }
}
