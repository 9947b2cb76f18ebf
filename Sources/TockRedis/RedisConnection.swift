import CHiredis
import Foundation
import Logging
import TockConcurrency

/// One hiredis connection, driven from its own `BlockingThread` so that blocking socket calls
/// never hold a thread of Swift's cooperative pool.
///
/// Calls are served one at a time, in submission order, each as one round trip. The connection
/// is opened lazily by the first call (or `connect()`); after an I/O error, EOF or timeout the
/// call throws `RedisError.connection` and the next call reconnects (re-sending AUTH and
/// SELECT), waiting a growing backoff between failed attempts.
public final class RedisConnection: RedisCommandRunner {
    public struct Configuration: Sendable {
        public var url: RedisURL
        public var connectTimeout: Duration
        /// Bounds each read or write on the socket: a silent server fails a call instead of blocking it forever.
        public var commandTimeout: Duration
        /// Wait before the first reconnect attempt after a failed one; doubles up to `maxReconnectBackoff`.
        public var reconnectBackoff: Duration
        public var maxReconnectBackoff: Duration
        /// When set, the connection goes to the primary these Sentinels name (with `url`'s
        /// credentials), not to `url`'s host.
        public var sentinel: RedisSentinelResolver?
        /// A call made while the reconnect backoff runs fails at once instead of waiting it out:
        /// a cluster node's calls must not queue up behind a dead node's backoff while the
        /// cluster fails it over.
        public var failFastWhileBackingOff = false

        public init(
            url: RedisURL,
            connectTimeout: Duration = .seconds(2),
            commandTimeout: Duration = .seconds(5),
            reconnectBackoff: Duration = .milliseconds(50),
            maxReconnectBackoff: Duration = .seconds(1),
            sentinel: RedisSentinelResolver? = nil
        ) {
            self.url = url
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.reconnectBackoff = reconnectBackoff
            self.maxReconnectBackoff = maxReconnectBackoff
            self.sentinel = sentinel
        }
    }

    public let configuration: Configuration
    private let thread: BlockingThread
    private let session: Session

    public init(configuration: Configuration, logger: Logger = Logger(label: "tock.redis")) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis"] = "\(configuration.url)"
        // Linux keeps at most 15 characters of a thread name.
        thread = BlockingThread(name: "redis:\(configuration.url.port)")
        session = Session(configuration: configuration, logger: logger)
        // hiredis writes with write(2): a write to a socket the server closed would raise SIGPIPE
        // and kill the process. Blocking it on this thread only makes write fail with EPIPE.
        thread.submit { Session.blockSIGPIPEOnCurrentThread() }
    }

    public convenience init(url: String, logger: Logger = Logger(label: "tock.redis")) throws(RedisError) {
        self.init(configuration: Configuration(url: try RedisURL(url)), logger: logger)
    }

    /// Opens the connection now (it otherwise opens on first use) and PINGs, so that a wrong
    /// address or password shows at start-up.
    public func connect() async throws(RedisError) {
        _ = try await send(PING())
    }

    /// Drops the connection; later calls throw `RedisError.closed`.
    public func close() async {
        let session = self.session
        await thread.run { session.close() }
    }

    // MARK: Commands

    /// See `RedisCommandRunner.run`; a single connection has no replicas to wait for.
    public func run(_ requests: [RedisRequest], idempotent: Bool, durable: Bool) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        guard !requests.isEmpty else { return [] }
        switch await execute(requests, asking: [], waitFor: nil, retryOnce: idempotent) {
        case .success(let execution): return execution.results
        case .failure(let failure): throw failure.error
        }
    }

    /// Runs `requests` in one round trip (and one more per NOSCRIPT reload), sending ASKING
    /// before each request whose `asking` is true; with `waitFor`, a WAIT follows on this
    /// connection and its answer comes back too. A broken connection is a failure that says
    /// whether anything was written.
    func execute(_ requests: [RedisRequest], asking: [Bool], waitFor: ReplicaWait?, retryOnce: Bool = false) async -> Result<
        RedisExecution, RedisExecutionFailure
    > {
        let session = self.session
        return await thread.run { session.execute(requests, asking: asking, waitFor: waitFor, retryOnce: retryOnce) }
    }
}

extension RedisValue {
    var result: Result<RedisValue, RedisError> {
        if case .error(let message) = self { return .failure(.server(message)) }
        return .success(self)
    }
}

/// The state behind a `RedisConnection`: the hiredis context and the script SHAs.
///
/// @unchecked Sendable: every member is touched only by jobs on the connection's own
/// `BlockingThread`, which runs them one at a time.
private final class Session: @unchecked Sendable {
    private let configuration: RedisConnection.Configuration
    private let logger: Logger
    private var context: HiredisContext?
    private var closed = false
    private var hasConnected = false
    private var backoff: Duration = .zero
    private var nextAttempt: ContinuousClock.Instant?
    /// Set when a call's connection failed after it was established (as opposed to failing to connect).
    private var brokeUnderCall = false
    /// The primary a Sentinel named, while connected to it.
    private var primary: RedisNodeAddress?
    /// Set once a call's first round trip went out: its later ones (NOSCRIPT reloads, WAIT) must
    /// use the same connection, to the same server, or fail; never reconnect in between.
    private var pinned = false

    init(configuration: RedisConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    static func blockSIGPIPEOnCurrentThread() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    func close() {
        closed = true
        dropContext()
    }

    /// Drops the connection; the next call reconnects (asking the Sentinels anew, if any).
    private func dropContext() {
        context = nil
        if let primary { configuration.sentinel?.forget(primary) }
        primary = nil
    }

    // MARK: Connection

    func connectedContext() throws(RedisError) -> HiredisContext {
        if pinned {
            guard let context else { throw .connection("the connection broke during the call") }
            return context
        }
        if let context {
            // A server that restarted or dropped us while we were idle has already closed the
            // socket; noticing it here reconnects before anything is sent, so the call still works.
            if let primary, let sentinel = configuration.sentinel, sentinel.hasMoved(from: primary) {
                logger.warning("Sentinel names another primary; reconnecting", metadata: ["was": "\(primary)"])
                dropContext()
            } else if context.peerHasClosed() {
                logger.info("Redis closed the idle connection; reconnecting")
                dropContext()
            } else {
                return context
            }
        }
        if closed { throw .closed }
        if let nextAttempt {
            let wait = nextAttempt - .now
            if wait > .zero, configuration.failFastWhileBackingOff {
                throw .connection("\(configuration.url.address) did not answer; next connection attempt in \(wait)")
            }
            if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) * 1e-18) }
        }
        do {
            let context = try open()
            self.context = context
            if hasConnected { logger.info("reconnected to Redis") }
            hasConnected = true
            backoff = .zero
            nextAttempt = nil
            return context
        } catch {
            // One warning per outage; the callers see every failure anyway.
            if backoff == .zero {
                logger.warning("cannot connect to Redis: \(error)")
            } else {
                logger.debug("still cannot connect to Redis: \(error)", metadata: ["retry-in": "\(backoff)"])
            }
            backoff = backoff == .zero ? configuration.reconnectBackoff : min(backoff * 2, configuration.maxReconnectBackoff)
            nextAttempt = .now + backoff
            throw error
        }
    }

    private func open() throws(RedisError) -> HiredisContext {
        let url = configuration.url
        guard let sentinel = configuration.sentinel else {
            return try HiredisContext.open(url, connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
        }
        let primary = try sentinel.primary()
        do throws(RedisError) {
            let context = try HiredisContext.open(
                url, at: primary, connectTimeout: configuration.connectTimeout,
                commandTimeout: configuration.commandTimeout)
            // A Sentinel's answer can be a moment old: never write to what is a replica by now.
            let role = try context.call(["ROLE"])
            guard case .array(let fields) = role, let name = fields.first?.string, name == "master" else {
                throw .connection("\(primary), named primary of \"\(sentinel.masterName)\" by Sentinel, is not a primary (ROLE: \(role))")
            }
            if self.primary != primary { logger.info("connected to the primary Sentinel names", metadata: ["primary": "\(primary)"]) }
            self.primary = primary
            return context
        } catch {
            sentinel.forget(primary)
            throw error
        }
    }

    /// Sends `commands` in one round trip on a connected context. A failure of the context drops
    /// it, so that the next call reconnects.
    func roundTrip(_ commands: [[RedisArgument]]) throws(RedisError) -> [RedisValue] {
        try roundTrip(formatted: commands.map(Self.formatted))
    }

    /// `commands` already in RESP form.
    func roundTrip(formatted commands: [[UInt8]]) throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let context = try connectedContext()
        do {
            let replies = try context.roundTrip(commands)
            if configuration.sentinel != nil, replies.contains(where: \.isReadOnlyError) {
                logger.warning("the primary became a replica (READONLY); asking the Sentinels again")
                dropContext()
            }
            return replies
        } catch {
            dropContext()
            brokeUnderCall = true
            logger.warning("Redis connection failed: \(error)")
            throw error
        }
    }

    /// Runs `body` once more when an established connection broke under it and the caller
    /// allows it. A failure to connect is not retried: nothing was sent, and the reconnect
    /// backoff already decides when to try again.
    func withRetry<T>(_ retryOnce: Bool, _ body: () throws(RedisError) -> T) throws(RedisError) -> T {
        brokeUnderCall = false
        do {
            return try body()
        } catch .connection(let message, _) where retryOnce && brokeUnderCall {
            logger.info("retrying an idempotent call after its connection broke: \(message)")
            return try body()
        }
    }

    // MARK: Requests

    func execute(_ requests: [RedisRequest], asking: [Bool], waitFor: ReplicaWait?, retryOnce: Bool) -> Result<RedisExecution, RedisExecutionFailure>
    {
        brokeUnderCall = false
        defer { pinned = false }
        do throws(RedisError) {
            let results = try withRetry(retryOnce) { () throws(RedisError) in try run(requests, asking: asking) }
            var acked: Int?
            if let waitFor {
                guard
                    case .integer(let count) = try roundTrip([["WAIT", RedisArgument(waitFor.replicas), RedisArgument(waitFor.timeoutMillis)]])[0]
                        .throwingServerError()
                else { throw .unexpectedReply("WAIT") }
                acked = Int(count)
            }
            return .success(RedisExecution(results: results, replicasAcked: acked))
        } catch {
            return .failure(RedisExecutionFailure(error: error, sent: brokeUnderCall))
        }
    }

    /// `requests` in one round trip, ASKING before those asked, then the NOSCRIPT reloads.
    private func run(_ requests: [RedisRequest], asking: [Bool]) throws(RedisError) -> [Result<RedisValue, RedisError>] {
        func format(_ indices: [Int]) -> (commands: [[UInt8]], replyIndex: [Int]) {
            var commands: [[UInt8]] = []
            var replyIndex: [Int] = []
            commands.reserveCapacity(indices.count)
            for index in indices {
                if index < asking.count, asking[index] { commands.append(Self.asking) }
                replyIndex.append(commands.count)
                switch requests[index] {
                case .command(let arguments): commands.append(Self.formatted(arguments))
                case .script(let call): commands.append(Self.evalSHACommand(call))
                }
            }
            return (commands, replyIndex)
        }
        let first = format(Array(requests.indices))
        pinned = false
        let replies = try roundTrip(formatted: first.commands)
        pinned = true
        var results = first.replyIndex.map { replies[$0].result }
        // Only script calls are loaded and run again: a raw EVALSHA's NOSCRIPT is its answer.
        let missing = requests.indices.filter { if case .script = requests[$0] { results[$0].isNoScript } else { false } }
        guard !missing.isEmpty else { return results }
        var seen: Set<String> = []
        let scripts = missing.compactMap { index -> RedisScript? in
            guard case .script(let call) = requests[index] else { return nil }
            return call.script
        }.filter { seen.insert($0.sha).inserted }
        var loadFailures: [String: RedisError] = [:]
        for (script, reply) in zip(scripts, try roundTrip(scripts.map { SCRIPT.LOAD($0.source).arguments })) {
            if case .failure(let error) = reply.result { loadFailures[script.sha] = error }
        }
        var runnable: [Int] = []
        for index in missing {
            if case .script(let call) = requests[index], let error = loadFailures[call.script.sha] {
                results[index] = .failure(error)
            } else {
                runnable.append(index)
            }
        }
        let again = format(runnable)
        let rerun = try roundTrip(formatted: again.commands)
        for (index, replyIndex) in zip(runnable, again.replyIndex) { results[index] = rerun[replyIndex].result }
        return results
    }

    private static let asking = RESPArguments.command(RESPArguments(["ASKING"]))

    private static func evalSHACommand(_ call: RedisScriptCall) -> [UInt8] {
        var head = RESPArguments()
        head.append("EVALSHA")
        head.append(call.script.sha)
        head.append(call.keys.count)
        return RESPArguments.command(head, call.keys, call.args)
    }

    private static func formatted(_ arguments: [RedisArgument]) -> [UInt8] { RESPArguments.command(RESPArguments(arguments)) }
}

/// How many replicas must confirm a connection's writes, and how long to wait for them.
struct ReplicaWait: Sendable {
    var replicas: Int
    var timeoutMillis: Int
}

/// What `RedisConnection.execute` ran: one result per request, and the replicas that confirmed
/// (nil without a WAIT).
struct RedisExecution: Sendable {
    var results: [Result<RedisValue, RedisError>]
    var replicasAcked: Int?
}

/// A connection that failed under `RedisConnection.execute`; `sent` says whether the requests
/// may have reached the server.
struct RedisExecutionFailure: Error {
    var error: RedisError
    var sent: Bool
}

extension RedisValue {
    var isReadOnlyError: Bool {
        if case .error(let message) = self { return message.hasPrefix("READONLY") }
        return false
    }
}

extension Result<RedisValue, RedisError> {
    var isNoScript: Bool {
        if case .failure(.server(let message)) = self { return message.hasPrefix("NOSCRIPT") }
        return false
    }
}
