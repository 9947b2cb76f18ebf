import Testing
import TockCore

@Suite("A cold record's header and version")
struct ColdRecordTests {
    @Test("the header carries the due time and version; a record without one, or with a bad one, is not a cold record")
    func header() {
        let record = ColdRecord(id: "a", dueMillis: 1_796_000_000_123, version: 4_000_000_000, blob: [1, 2])
        #expect(String(decoding: record.headerValue, as: UTF8.self) == "1796000000123 4000000000")
        #expect(ColdRecord(key: Array("a".utf8), value: [1, 2], headerValue: record.headerValue) == record)
        #expect(ColdRecord(key: Array("a".utf8), value: [1, 2], headerValue: nil) == nil)
        #expect(ColdRecord(key: Array("a".utf8), value: [1, 2], headerValue: Array("12".utf8)) == nil)
        #expect(ColdRecord(key: nil, value: [1, 2], headerValue: record.headerValue) == nil)
    }

    @Test("a request read again gives the same version; another request, another")
    func version() {
        #expect(ColdRecord.version(source: "in/0/5") == ColdRecord.version(source: "in/0/5"))
        let versions = Set((0..<10_000).map { ColdRecord.version(source: "in/0/\($0)") })
        #expect(versions.count == 10_000)
    }
}
