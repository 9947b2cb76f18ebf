/// Everything TockRedis throws.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered with an error reply, e.g. `"NOSCRIPT No matching script..."`.
    case server(String)
    /// The connection failed (refused, reset, EOF, timeout). The connection reconnects on its
    /// next call; whether the failed command ran on the server is unknown. `code` is hiredis's
    /// `redisContext.err` (`REDIS_ERR_IO` = 1, `REDIS_ERR_EOF` = 3, ...), 0 when not from hiredis.
    case connection(String, code: Int32 = 0)
    /// The server sent bytes hiredis could not parse; the connection was dropped.
    case protocolError(String)
    case invalidURL(String)
    /// A reply did not have the shape the caller asked for (e.g. a string where an integer was expected).
    case unexpectedReply(String)
    /// The connection or client was closed by its owner.
    case closed
    /// The writes ran, but fewer replicas than asked confirmed them (`WAIT`) in time: a failover
    /// now could lose them, so the caller must not treat them as durable yet.
    case notReplicated(acked: Int, wanted: Int)

    /// The first word of a server error, e.g. `"NOSCRIPT"`, `"WRONGTYPE"`, `"ERR"`.
    public var serverErrorCode: String? {
        guard case .server(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
    }

    public var isNoScript: Bool { serverErrorCode == "NOSCRIPT" }

    /// Whether trying the same call again later may succeed. A server error is retriable only when
    /// Redis refused the command without running it for a passing reason (loading its data set
    /// after a restart, busy with a script, ...).
    public var isRetriable: Bool {
        switch self {
        case .connection, .notReplicated: return true
        case .server: return Self.transientServerCodes.contains(serverErrorCode ?? "")
        case .protocolError, .invalidURL, .unexpectedReply, .closed: return false
        }
    }

    /// Whether the call can never succeed as configured (a bad URL, wrong credentials, a closed
    /// client): retrying is pointless and the operator must act.
    public var isFatal: Bool {
        switch self {
        case .invalidURL, .closed: return true
        case .server: return ["WRONGPASS", "NOAUTH", "NOPERM"].contains(serverErrorCode ?? "")
        case .connection, .protocolError, .unexpectedReply, .notReplicated: return false
        }
    }

    /// The C code behind the error: hiredis's `redisContext.err` for connection failures.
    public var hiredisCode: Int32? {
        if case .connection(_, let code) = self, code != 0 { return code }
        if case .protocolError = self { return 4 }  // REDIS_ERR_PROTOCOL
        return nil
    }

    // READONLY: a primary turned replica (a failover); CLUSTERDOWN: a cluster healing.
    private static let transientServerCodes: Set<String> = ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "CLUSTERDOWN"]

    public var description: String {
        switch self {
        case .server(let message): return "Redis error reply: \(message)"
        case .connection(let message, _): return "Redis connection error: \(message)"
        case .protocolError(let message): return "Redis protocol error: \(message)"
        case .invalidURL(let message): return "invalid Redis URL \(message)"
        case .unexpectedReply(let message): return "unexpected Redis reply: \(message)"
        case .closed: return "Redis connection closed"
        case .notReplicated(let acked, let wanted): return "Redis write confirmed by \(acked) of \(wanted) replicas asked"
        }
    }
}
