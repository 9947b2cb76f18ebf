import TockRedis

/// `unlease.lua`: gives a named lease up if the caller holds it.
struct UnleaseCall: StoreScriptCall {
    let script: RedisScript
    let keys: RESPArguments
    let args: RESPArguments

    init(script: RedisScript, key: String, holder: String) {
        self.script = script
        keys = [RedisArgument(key)]
        args = [RedisArgument(holder)]
    }

    func decode(_ value: RedisValue) throws(StoreError) {}
}
