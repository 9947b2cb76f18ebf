import Foundation
import TockRedis

/// The Lua scripts of the schedule store, loaded from `Scripts/*.lua` (see each file for its
/// contract), each with `prelude.lua` in front. They run by SHA; TockRedis loads a script on
/// NOSCRIPT and retries.
public struct StoreScripts: Sendable {
    public let store: RedisScript
    public let claim: RedisScript
    public let release: RedisScript
    public let begin: RedisScript
    public let finish: RedisScript
    public let own: RedisScript
    public let lease: RedisScript
    public let unlease: RedisScript
    public let status: RedisScript
    public let resetWatermarks: RedisScript
    public let heartbeat: RedisScript
    public let lead: RedisScript
    public let assign: RedisScript
    public let rate: RedisScript
    public let meta: RedisScript
    public let time: RedisScript
    public let workers: RedisScript
    public let move: RedisScript

    public struct MissingScript: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "the store script \(name).lua is missing from the TockStore bundle" }
    }

    static func source(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "lua", subdirectory: "Scripts") else {
            throw MissingScript(name: name)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// `body` with `prelude.lua` in front, as every store script runs.
    static func withPrelude(name: String, _ body: String) throws -> RedisScript {
        RedisScript(name: name, source: try source("prelude") + "\n" + body)
    }

    public static func load() throws -> StoreScripts {
        func script(_ name: String) throws -> RedisScript { try withPrelude(name: name, try source(name)) }
        return StoreScripts(
            store: try script("store"), claim: try script("claim"), release: try script("release"),
            begin: try script("begin"), finish: try script("finish"),
            own: try script("own"), lease: try script("lease"), unlease: try script("unlease"),
            status: try script("status"), resetWatermarks: try script("resetwm"),
            heartbeat: try script("heartbeat"), lead: try script("lead"), assign: try script("assign"),
            rate: try script("rate"), meta: try script("meta"), time: try script("time"), workers: try script("workers"),
            move: try script("move")
        )
    }
}
