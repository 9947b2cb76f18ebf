import Testing
import TockRedis

@Suite struct RedisHashSlotTests {
    @Test("CRC16 matches Redis's own test vector (crc16.c)")
    func crc16Vector() {
        #expect(RedisHashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisHashSlot.crc16([UInt8]()) == 0)
    }

    @Test(
        "slots match CLUSTER KEYSLOT of a real Redis 7.0",
        arguments: [
            ("foo", 12182), ("bar", 5061), ("hello", 866), ("somekey", 11058), ("", 0),
        ])
    func knownSlots(key: String, slot: Int) {
        #expect(RedisHashSlot.slot(of: key) == slot)
    }

    @Test("only the first non-empty {tag} is hashed, as the Cluster spec's examples say")
    func hashTags() {
        #expect(RedisHashSlot.slot(of: "{user1000}.following") == RedisHashSlot.slot(of: "{user1000}.followers"))
        #expect(RedisHashSlot.slot(of: "{user1000}.following") == RedisHashSlot.slot(of: "user1000"))
        #expect(RedisHashSlot.slot(of: "foo{}{bar}") != RedisHashSlot.slot(of: "bar"))
        #expect(RedisHashSlot.slot(of: "foo{}{bar}") == Int(RedisHashSlot.crc16(Array("foo{}{bar}".utf8)) & 0x3FFF))
        #expect(RedisHashSlot.slot(of: "foo{{bar}}zap") == RedisHashSlot.slot(of: "{bar"))
        #expect(RedisHashSlot.slot(of: "foo{bar}{zap}") == RedisHashSlot.slot(of: "bar"))
        #expect(RedisHashSlot.slot(of: "{unclosed") == Int(RedisHashSlot.crc16(Array("{unclosed".utf8)) & 0x3FFF))
    }

    @Test("a store shard's keys share one slot; the cluster's keys share another")
    func tockKeysShareSlots() {
        for shard in 0..<64 {
            let slot = RedisHashSlot.slot(of: "{tock:\(shard)}:msg")
            for suffix in ["queue", "owner", "att", "locks", "leases", "inbox", "wm", "t:123:4"] {
                #expect(RedisHashSlot.slot(of: "{tock:\(shard)}:\(suffix)") == slot)
            }
        }
        #expect(RedisHashSlot.slot(of: "{tock}:workers") == RedisHashSlot.slot(of: "{tock}:monitor:leader"))
    }
}
