import Foundation

/// A Lua script run with EVALSHA by its SHA1, computed here once; a NOSCRIPT reply (a new or
/// restarted server, `SCRIPT FLUSH`) loads it with SCRIPT LOAD and runs it again transparently.
public struct RedisScript: Sendable, Hashable, CustomStringConvertible {
    /// For logs and error messages only; the source is what identifies the script.
    public let name: String
    public let source: String
    public let sha: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha = SHA1.hex(Array(source.utf8))
    }

    /// Reads the script from a `.lua` file; `name` defaults to the file name without extension.
    public init(contentsOf url: URL, name: String? = nil) throws {
        self.init(name: name ?? url.deletingPathExtension().lastPathComponent, source: try String(contentsOf: url, encoding: .utf8))
    }

    public var description: String { "script \(name)" }
}

/// One EVALSHA of a pipelined batch, see `pipelineEvalSHA`.
public struct RedisScriptCall: Sendable, Hashable {
    public var script: RedisScript
    public var keys: RESPArguments
    public var args: RESPArguments

    public init(_ script: RedisScript, keys: RESPArguments = [], args: RESPArguments = []) {
        self.script = script
        self.keys = keys
        self.args = args
    }

    public init(_ script: RedisScript, keys: [RedisArgument], args: [RedisArgument] = []) {
        self.init(script, keys: RESPArguments(keys), args: RESPArguments(args))
    }
}
