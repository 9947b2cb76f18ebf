import Foundation
import TockCore

/// A request as a route sees it: the path percent-decoded (`HTTPTarget`), the query as sent.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The client's address and port, as the socket reports it.
    public var remote: String

    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = [], remote: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remote = remote
    }

    /// The value of a query parameter (the first), percent-decoded; nil when absent.
    public func queryValue(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == name else { continue }
            return parts.count == 2 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
        }
        return nil
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A whole response; the server adds `Content-Length` and, when it closes, `Connection: close`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int = 200, contentType: String, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.headers = [("Content-Type", contentType)] + headers
        self.body = body
    }

    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    public static func html(_ html: String) -> HTTPResponse {
        HTTPResponse(contentType: "text/html; charset=utf-8", body: Array(html.utf8))
    }

    /// `value` as pretty-printed JSON with sorted keys.
    public static func json(_ value: some Encodable, status: Int = 200) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return HTTPResponse(status: status, contentType: "application/json", body: Array((try? encoder.encode(value)) ?? Data("{}".utf8)))
    }

    /// `{"error": message}`: every error Tock's HTTP servers answer has this shape.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(["error": message], status: status)
    }
}

/// What a client may cost a Tock HTTP server (SPEC "Processes"). The defaults are SPEC's; tests
/// shorten the timeouts.
public struct HTTPLimits: Sendable, Equatable {
    /// Longer request lines get 414.
    public var maxRequestLineBytes = 8_192
    /// Longer header sections get 431.
    public var maxHeaderBytes = 16_384
    /// Larger request bodies get 413 (no route reads a body yet; with the connection cap this
    /// bounds what clients can make the server hold).
    public var maxBodyBytes = 64 * 1_024
    /// A whole request must arrive within this (from the connection's start or from its first
    /// byte), and a response must be taken by the client within it.
    public var requestTimeoutMillis: Int64 = 10_000
    /// A kept-alive connection with no request is closed after this.
    public var idleTimeoutMillis: Int64 = 60_000
    /// Connections beyond this many are closed as soon as they are accepted: each holds a file
    /// descriptor, and the process needs its descriptors for Redis and Kafka.
    public var maxConnections = 512
    /// After a 414 or 431, what the client still sends is read and dropped for up to this long
    /// before the connection closes, so that its close does not reset the connection before the
    /// client read the answer.
    public var lingerMillis: Int64 = 2_000

    public init() {}
}
