import Testing
import TockRedis

@Suite struct RedisCommandKeysTests {
    @Test("a command is routed by its first key; keyless ones go anywhere")
    func firstKeys() {
        #expect(RedisCommandKeys.firstKey(of: ["HGET", "{a}:k", "f"]) == "{a}:k")
        #expect(RedisCommandKeys.firstKey(of: ["zrange", "q", "0", "-1"]) == "q")
        #expect(RedisCommandKeys.firstKey(of: ["EVALSHA", "abc", "2", "k1", "k2", "arg"]) == "k1")
        #expect(RedisCommandKeys.firstKey(of: ["EVAL", "return 1", "0"]) == nil)
        #expect(RedisCommandKeys.firstKey(of: ["BITOP", "AND", "dest", "a"]) == "dest")
        #expect(RedisCommandKeys.firstKey(of: ["XREAD", "COUNT", "2", "STREAMS", "s", "0"]) == "s")
        for keyless: [RedisArgument] in [
            ["PING"], ["INFO", "memory"], ["CONFIG", "SET", "x", "y"], ["WAIT", "1", "100"], ["SCRIPT", "LOAD", "x"],
        ] {
            #expect(RedisCommandKeys.firstKey(of: keyless) == nil, "\(keyless)")
        }
    }

    @Test("a script call is routed by the slot of its first declared key")
    func scriptSlot() {
        let script = RedisScript(name: "t", source: "return 1")
        let call = RedisScriptCall(script, keys: ["{tock:7}:msg", "{tock:7}:queue"], args: ["x"])
        #expect(RedisRequest.script(call).slot == RedisHashSlot.slot(of: "tock:7"))
        #expect(RedisRequest.script(RedisScriptCall(script, keys: [], args: ["x"])).slot == nil)
        #expect(RedisRequest.command(["GET", "{tock:7}:owner"]).slot == RedisHashSlot.slot(of: "tock:7"))
    }
}
