/// When an HTTP connection is closed because its client is slow (SPEC: a connection that has not
/// sent a whole request within 10 s, or sits idle for 60 s, is closed). The server reports what
/// happened on the connection and keeps the one deadline this returns.
///
/// - A new connection has `requestMillis` to send its first request; a kept-alive one may then
///   sit idle for `idleMillis`, and has `requestMillis` from the first byte of its next request.
/// - While the server works on a request the client is not waiting on anything: no deadline.
/// - A response must be taken whole within `requestMillis` of its first part, so a client that
///   stops reading cannot hold its connection (and the response's memory) for ever.
public struct HTTPConnectionDeadlines: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        /// The connection was accepted.
        case opened
        /// The first byte of a request arrived.
        case requestStarted
        /// A whole request arrived (its end).
        case requestReceived
        /// A response's first part was handed to the socket.
        case responseQueued
        /// The socket took all of it.
        case responseSent
    }

    public enum Action: Sendable, Equatable {
        /// Close the connection at this time (milliseconds on the caller's clock), unless a
        /// later action replaces the deadline.
        case closeAt(Int64)
        /// No deadline: the server has the next move.
        case noDeadline
        /// Keep the deadline there is.
        case keep
    }

    public let requestMillis: Int64
    public let idleMillis: Int64
    /// Requests received whose responses the socket has not taken yet.
    private var unanswered = 0
    /// Whether the connection is new and nothing has arrived on it yet.
    private var awaitingFirst = false
    /// Whether part of a request has arrived, and not its end.
    private var partial = false
    /// Whether a response waits for the socket to take it.
    private var writing = false

    public init(requestMillis: Int64 = 10_000, idleMillis: Int64 = 60_000) {
        self.requestMillis = requestMillis
        self.idleMillis = idleMillis
    }

    public mutating func on(_ event: Event, nowMillis now: Int64) -> Action {
        switch event {
        case .opened:
            awaitingFirst = true
            return .closeAt(now + requestMillis)
        case .requestStarted:
            defer { (awaitingFirst, partial) = (false, true) }
            // A new connection's clock runs since it opened; one pipelined behind a request being
            // answered starts once that is sent.
            return awaitingFirst || partial || unanswered > 0 ? .keep : .closeAt(now + requestMillis)
        case .requestReceived:
            (awaitingFirst, partial) = (false, false)
            unanswered += 1
            return writing ? .keep : .noDeadline
        case .responseQueued:
            writing = true
            return .closeAt(now + requestMillis)
        case .responseSent:
            writing = false
            unanswered = max(0, unanswered - 1)
            if unanswered > 0 { return .noDeadline }
            return .closeAt(now + (partial ? requestMillis : idleMillis))
        }
    }

    /// Whether the connection is between requests: nothing of a next one has arrived and every
    /// response was sent. Such a connection can be closed at once when the server stops.
    public var isIdle: Bool { !partial && !isAnswering }

    /// Whether a request received has not had its whole response taken by the socket yet.
    public var isAnswering: Bool { unanswered > 0 || writing }
}
