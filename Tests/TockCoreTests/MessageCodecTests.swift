import Testing

@testable import TockCore

@Suite("Stored message codec, shard map and tombstones")
struct MessageCodecTests {
    @Test("a message survives encode and decode byte for byte: binary value, null key, null and duplicate headers")
    func roundTrip() throws {
        let messages = [
            ScheduledMessage(
                id: "a", idWasGiven: true, dueMillis: 1_700_000_000_123, topic: "orders",
                key: [0, 255, 1], value: Array(0...255),
                headers: [RecordHeader(key: "h", value: nil), RecordHeader(key: "h", value: []), RecordHeader(key: "ü", value: [7])]),
            ScheduledMessage(id: "b", idWasGiven: false, dueMillis: -5, topic: "t", key: nil, value: [], headers: []),
        ]
        for m in messages {
            #expect(try MessageCodec.decode(MessageCodec.encode(m), id: m.id) == m)
        }
    }

    @Test("a null value and an empty value stay apart through encode and decode")
    func nullAndEmptyValues() throws {
        let null = ScheduledMessage(id: "n", idWasGiven: true, dueMillis: 1, topic: "t", key: [1], value: nil, headers: [])
        var empty = null
        empty.value = []
        #expect(try MessageCodec.decode(MessageCodec.encode(null), id: "n").value == nil)
        #expect(try MessageCodec.decode(MessageCodec.encode(empty), id: "n").value == [])
        #expect(try MessageCodec.decode(MessageCodec.encode(null), id: "n") == null)
        #expect(try MessageCodec.decode(MessageCodec.encode(empty), id: "n") == empty)
    }

    @Test("a message stored before the null-value flag existed decodes as it did: an empty value stays empty")
    func blobWithoutNullValueFlag() throws {
        // Version 1, due 1000, flags 3 (key present, id given), topic "t", key [9], no headers.
        let prefix: [UInt8] = [1, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 0x74, 1, 0, 0, 0, 9, 0, 0, 0, 0]
        let empty = try MessageCodec.decode(prefix + [0, 0, 0, 0], id: "old")
        #expect(empty == ScheduledMessage(id: "old", idWasGiven: true, dueMillis: 1_000, topic: "t", key: [9], value: [], headers: []))
        #expect(try MessageCodec.decode(prefix + [2, 0, 0, 0, 7, 8], id: "old").value == [7, 8])
    }

    @Test("version 3 writes times and lengths as varints: 18 bytes beyond topic and payload; version 2 still decodes")
    func compactAndVersion2() throws {
        var m = ScheduledMessage(id: "a", idWasGiven: true, dueMillis: 1_764_550_000_000, topic: "orders", key: nil, value: [1, 2], headers: [])
        m.storedMillis = 1_764_549_998_000
        let bytes = MessageCodec.encode(m)
        #expect(bytes.count == 18 + 6 + 2)
        #expect(try MessageCodec.decode(bytes, id: "a") == m)
        var past = m
        past.dueMillis = -5
        #expect(try MessageCodec.decode(MessageCodec.encode(past), id: "a") == past)
        // Version 2: fixed widths, with the store time (2000) after the due time (1000).
        let version2: [UInt8] = [
            2, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0xD0, 0x07, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5,
        ]
        let decoded = try MessageCodec.decode(version2, id: "b")
        #expect(decoded.dueMillis == 1_000 && decoded.storedMillis == 2_000 && decoded.topic == "t" && decoded.value == [5] && decoded.idWasGiven)
    }

    @Test("truncated or trailing bytes are an error, not a crash")
    func corrupt() {
        let bytes = MessageCodec.encode(ScheduledMessage(id: "a", idWasGiven: true, dueMillis: 1, topic: "t", key: nil, value: [1, 2], headers: []))
        for cut in 0..<bytes.count {
            #expect(throws: MessageCodec.DecodingError.self) { try MessageCodec.decode(Array(bytes.prefix(cut)), id: "a") }
        }
        #expect(throws: MessageCodec.DecodingError.self) { try MessageCodec.decode(bytes + [0], id: "a") }
    }

    @Test("the shard of an id is stable across processes (FNV-1a) and spreads ids evenly")
    func shardMap() {
        let map = ShardMap(shardCount: 64)
        #expect(ShardMap.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(ShardMap.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        var counts = [Int](repeating: 0, count: 64)
        for i in 0..<64_000 { counts[map.shard(of: "tock.requests/\(i % 24)/\(i)")] += 1 }
        #expect(counts.min()! > 800 && counts.max()! < 1_200, "\(counts)")
    }

    @Test("tombstone fingerprints differ per id and buckets spread")
    func tombstones() {
        let a = Tombstone(id: "order-1"), b = Tombstone(id: "order-2")
        #expect(a.fingerprint != b.fingerprint)
        #expect(Tombstone(id: "order-1") == a)
        var buckets = Set<Int>()
        for i in 0..<160_000 { buckets.insert(Tombstone(id: "id-\(i)").bucket) }
        #expect(buckets.count == Tombstone.buckets)
    }
}
