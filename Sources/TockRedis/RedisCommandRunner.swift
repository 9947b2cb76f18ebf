/// What every Redis client of Tock offers, written once: typed commands, pipelines and scripts,
/// over the one thing each client does its own way, running a batch of requests.
public protocol RedisCommandRunner: Sendable {
    /// Runs `requests` (in one round trip where the client can), one result per request, in
    /// order. Error replies are `.failure(.server)` entries; a connection failure throws for the
    /// whole batch (the server may have run any prefix of it). `idempotent`: the batch is sent
    /// once more after a reconnect when the connection broke under it. `durable`: the client waits
    /// for its configured replicas to confirm the writes, where it has any.
    func run(_ requests: [RedisRequest], idempotent: Bool, durable: Bool) async throws(RedisError) -> [Result<RedisValue, RedisError>]
}

extension RedisCommandRunner {
    /// Sends one command and decodes its reply. An error reply is thrown as `RedisError.server`.
    /// With `idempotent: true`, only for commands that are safe to run twice, a call that fails on
    /// a broken connection is sent once more after reconnecting.
    public func send<Command: RedisCommand>(_ command: Command, idempotent: Bool = false) async throws(RedisError) -> Command.Response {
        let reply = try await run([.command(command.arguments)], idempotent: idempotent, durable: false)[0].get()
        return try Command.Response(from: reply.throwingServerError())
    }

    /// `send` decoding the reply as `type` instead of `Command.Response`, e.g. a `RawRedisCommand` as `Int64`.
    public func send<Command: RedisCommand, Response: RedisReplyDecodable>(
        _ command: Command, as type: Response.Type, idempotent: Bool = false
    ) async throws(RedisError) -> Response {
        try Response(from: await send(RawRedisCommand(command.arguments), idempotent: idempotent))
    }

    /// Sends all commands as one batch; one result per command, in order.
    public func pipeline(_ commands: [any RedisCommand], idempotent: Bool = false) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        try await pipeline(arguments: commands.map(\.arguments), idempotent: idempotent)
    }

    /// `pipeline(_:)` for commands given as argument vectors.
    public func pipeline(arguments: [[RedisArgument]], idempotent: Bool = false, durable: Bool = false) async throws(RedisError) -> [Result<
        RedisValue, RedisError
    >] {
        guard !arguments.isEmpty else { return [] }
        return try await run(arguments.map { .command($0) }, idempotent: idempotent, durable: durable)
    }

    /// Sends differently typed commands in one batch, e.g.
    /// `let (set, get) = try await client.pipeline(SET("k", "v"), GET("k"))`.
    public func pipeline<each Command: RedisCommand>(
        _ commands: repeat each Command, idempotent: Bool = false
    ) async throws(RedisError) -> (repeat Result<(each Command).Response, RedisError>) {
        try await typedPipeline(repeat each commands) { arguments throws(RedisError) in
            try await pipeline(arguments: arguments, idempotent: idempotent)
        }
    }

    /// Runs `script` with EVALSHA, loading it first where the server lacks it. An error reply
    /// (including one raised by the script) is thrown.
    public func evalSHA(
        _ script: RedisScript, keys: [RedisArgument] = [], args: [RedisArgument] = [], idempotent: Bool = false
    ) async throws(RedisError) -> RedisValue {
        try await pipelineEvalSHA([RedisScriptCall(script, keys: keys, args: args)], idempotent: idempotent)[0].get().throwingServerError()
    }

    /// `evalSHA` decoding the reply as `type`.
    public func evalSHA<Response: RedisReplyDecodable>(
        _ script: RedisScript, keys: [RedisArgument] = [], args: [RedisArgument] = [], as type: Response.Type, idempotent: Bool = false
    ) async throws(RedisError) -> Response {
        try Response(from: await evalSHA(script, keys: keys, args: args, idempotent: idempotent))
    }

    /// Runs the calls as one pipeline of EVALSHA (one round trip when every script is loaded).
    /// Entries that got NOSCRIPT are run again, in order, after one `SCRIPT LOAD` per script; they
    /// then run after the batch's other entries, so calls of one batch must not depend on each
    /// other's order across scripts.
    public func pipelineEvalSHA(_ calls: [RedisScriptCall], idempotent: Bool = false, durable: Bool = false) async throws(RedisError) -> [Result<
        RedisValue, RedisError
    >] {
        guard !calls.isEmpty else { return [] }
        return try await run(calls.map { .script($0) }, idempotent: idempotent, durable: durable)
    }

    public func pipelineEvalSHA(
        _ calls: [(script: RedisScript, keys: [RedisArgument], args: [RedisArgument])], idempotent: Bool = false
    ) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        try await pipelineEvalSHA(calls.map { RedisScriptCall($0.script, keys: $0.keys, args: $0.args) }, idempotent: idempotent)
    }
}
