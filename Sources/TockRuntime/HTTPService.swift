import FlyingFox
import FlyingSocks
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Whether the process can do its work, for `/readyz`.
public struct ReadinessReport: Sendable, Equatable {
    public var ready: Bool
    /// Why the process is not ready; one line each in the `/readyz` body.
    public var reasons: [String]
    /// What an operator should know even while it is ready (a clock it corrects for); one line
    /// each, after the answer.
    public var notes: [String]

    public init(ready: Bool, reasons: [String] = [], notes: [String] = []) {
        self.ready = ready
        self.reasons = reasons
        self.notes = notes
    }

    /// Ready exactly when there is no reason not to be.
    public init(reasons: [String], notes: [String] = []) {
        self.init(ready: reasons.isEmpty, reasons: reasons, notes: notes)
    }
}

/// A failure of the HTTP side of a process; the description always names `host:port`.
public struct HTTPServiceError: Error, LocalizedError, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `http.host` is neither an IP address nor a name that resolves to one, or the port is out of range.
        case invalidAddress
        /// The listening socket could not be set up (typically: the port is in use).
        case listenFailed
        /// The server stopped with an error after it was listening.
        case serverFailed
        /// The service was made with port 0, so there is nothing to wait for.
        case disabled
    }

    public var kind: Kind
    public var host: String
    public var port: Int
    public var reason: String

    public var endpoint: String { HTTPService.endpoint(host: host, port: port) }

    public var description: String {
        switch kind {
        case .invalidAddress: "invalid HTTP listen address \(endpoint): \(reason)"
        case .listenFailed: "cannot listen for HTTP on \(endpoint): \(reason)"
        case .serverFailed: "HTTP server on \(endpoint) failed: \(reason)"
        case .disabled: "HTTP is off (port 0), so nothing listens on \(endpoint)"
        }
    }

    public var errorDescription: String? { description }
}

/// Serves `/metrics`, `/healthz` and `/readyz` (and any extra routes) on `host:port` until
/// graceful shutdown. Port 0 turns HTTP off: `run()` then only waits for graceful shutdown.
///
/// A `ServiceGroup` shuts its services down last-to-first, so put this service first: it then
/// keeps answering scrapes and probes while the rest of the process drains.
public struct HTTPService: Service {
    public typealias Route = @Sendable (HTTPRequest) async -> HTTPResponse

    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    public let host: String
    public let port: Int
    private let server: HTTPServer?
    private let addressError: HTTPServiceError?
    private let requests = RequestTracker()
    private let logger: Logger

    // How long in-flight requests may take to finish once graceful shutdown stops the listener.
    private static let drainSeconds: TimeInterval = 2

    /// - Parameter extraRoutes: keyed by FlyingFox route pattern, e.g. `"GET /v1/cluster"`. The
    ///   built-in routes take precedence; extra routes are tried in key order.
    public init(
        host: String,
        port: Int,
        metrics: TockMetrics,
        readiness: @escaping @Sendable () async -> ReadinessReport,
        extraRoutes: [String: Route] = [:],
        logger: Logger
    ) {
        self.host = host
        self.port = port
        self.logger = logger
        guard port != 0 else {
            (server, addressError) = (nil, nil)
            return
        }
        do {
            guard let port16 = UInt16(exactly: port) else {
                throw HTTPServiceError(kind: .invalidAddress, host: host, port: port, reason: "port must be 0...65535")
            }
            let configuration = HTTPServer.Configuration(
                address: try Self.makeAddress(host: host, port: port16),
                logger: FlyingFoxLogger(logger: logger)
            )
            let routes = Self.makeRoutes(metrics: metrics, readiness: readiness, extraRoutes: extraRoutes)
            let handler = TrackingHandler(routes: routes, tracker: requests)
            (server, addressError) = (HTTPServer(config: configuration, handler: handler), nil)
        } catch let error as HTTPServiceError {
            (server, addressError) = (nil, error)
        } catch {
            (server, addressError) = (nil, HTTPServiceError(kind: .invalidAddress, host: host, port: port, reason: "\(error)"))
        }
    }

    /// False when port is 0.
    public var isEnabled: Bool { port != 0 }

    public func run() async throws {
        if let addressError { throw addressError }
        guard let server else {
            logger.info("HTTP off (http.port is 0)")
            // Keep the lifetime of an HTTP-on service, so the group does not see it finish early.
            try? await gracefulShutdown()
            return
        }
        try await serve(server)
    }

    /// Waits until the server accepts connections and returns the port it listens on.
    /// Throws when HTTP is off or the server is not listening within `timeout`.
    public func waitUntilListening(timeout: Duration = .seconds(5)) async throws -> UInt16 {
        if let addressError { throw addressError }
        guard let server else {
            throw HTTPServiceError(kind: .disabled, host: host, port: port, reason: "")
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        try await server.waitUntilListening(timeout: seconds)
        switch await server.listeningAddress {
        case .ip4(_, let port), .ip6(_, let port): return port
        case .unix, nil: return UInt16(port)
        }
    }

    private enum Outcome: Sendable {
        case listening
        case notListening
        case shutdownRequested
        case drained
        case cancelled
        case serverEnded((any Error)?)
    }

    private func serve(_ server: HTTPServer) async throws {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    try await server.run()
                    return .serverEnded(nil)
                } catch {
                    return .serverEnded(error)
                }
            }
            group.addTask {
                do {
                    try await gracefulShutdown()
                    return .shutdownRequested
                } catch {
                    return .cancelled
                }
            }
            group.addTask {
                // Only for the log line; a day is "forever" here, the group cancels it sooner.
                do {
                    try await server.waitUntilListening(timeout: 86_400)
                    return .listening
                } catch {
                    return .notListening
                }
            }

            var stopping = false
            while let outcome = try await group.next() {
                switch outcome {
                case .listening:
                    let bound = await server.listeningAddress.map(Self.describe) ?? Self.endpoint(host: host, port: port)
                    logger.info("HTTP listening", metadata: ["address": "\(bound)"])
                case .notListening:
                    break
                case .shutdownRequested:
                    stopping = true
                    // stop() closes the listener, then always waits its full timeout: FlyingFox's
                    // accept loop does not notice the close. So the server is cancelled as soon as
                    // no request is in a handler any more (or stop() gives up); that also covers a
                    // shutdown before the socket listens, when stop() does nothing.
                    let requests = self.requests
                    group.addTask {
                        await server.stop(timeout: Self.drainSeconds)
                        return .drained
                    }
                    group.addTask {
                        await requests.waitUntilIdle()
                        return .drained
                    }
                case .drained:
                    // Close the listener before cancelling: a server task cancelled before the
                    // stop above ran ends without closing its socket, which then accepts
                    // connections (into nothing) for as long as the server object lives.
                    await server.stop(timeout: 0)
                    group.cancelAll()
                case .cancelled:
                    stopping = true
                    group.cancelAll()
                case .serverEnded(let error):
                    group.cancelAll()
                    if stopping || Task.isCancelled { continue }
                    throw classify(error)
                }
            }
            logger.debug("HTTP stopped")
        }
    }

    private func classify(_ error: (any Error)?) -> HTTPServiceError {
        guard let error else {
            return HTTPServiceError(kind: .serverFailed, host: host, port: port, reason: "stopped unexpectedly")
        }
        // Errors from the calls that set up the listening socket, as FlyingSocks names them.
        let setupCalls: Set<String> = ["CreateSocket", "SetOption", "Bind", "Listen", "GetFlags", "SetFlags"]
        if case let SocketError.failed(type, errno, message) = error, setupCalls.contains(type) {
            return HTTPServiceError(kind: .listenFailed, host: host, port: port, reason: "\(message) (\(type.lowercased()), errno \(errno))")
        }
        return HTTPServiceError(kind: .serverFailed, host: host, port: port, reason: error.localizedDescription)
    }

    // MARK: Routes

    private static func makeRoutes(
        metrics: TockMetrics,
        readiness: @escaping @Sendable () async -> ReadinessReport,
        extraRoutes: [String: Route]
    ) -> RoutedHTTPHandler {
        var routes = RoutedHTTPHandler()
        routes.appendRoute(
            "GET /metrics",
            to: ClosureHTTPHandler { _ in
                HTTPResponse(
                    statusCode: .ok,
                    headers: [.contentType: metricsContentType],
                    body: Data(metrics.render().utf8)
                )
            })
        routes.appendRoute(
            "GET /healthz",
            to: ClosureHTTPHandler { _ in
                text(.ok, "ok")
            })
        routes.appendRoute(
            "GET /readyz",
            to: ClosureHTTPHandler { _ in
                let report = await readiness()
                if report.ready { return text(.ok, (["ready"] + report.notes).joined(separator: "\n")) }
                return text(.serviceUnavailable, ((report.reasons.isEmpty ? ["not ready"] : report.reasons) + report.notes).joined(separator: "\n"))
            })
        for (pattern, route) in extraRoutes.sorted(by: { $0.key < $1.key }) {
            routes.appendRoute(HTTPRoute(pattern), to: ClosureHTTPHandler { request in await route(request) })
        }
        return routes
    }

    private static func text(_ status: HTTPStatusCode, _ body: String) -> HTTPResponse {
        HTTPResponse(
            statusCode: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: Data((body + "\n").utf8)
        )
    }

    // MARK: Addresses

    static func endpoint(host: String, port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func describe(_ address: Socket.Address) -> String {
        switch address {
        case .ip4(let host, let port), .ip6(let host, let port): endpoint(host: host, port: Int(port))
        case .unix(let path): path
        }
    }

    private static func makeAddress(host: String, port: UInt16) throws -> any SocketAddress {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.isEmpty || name == "*" { name = "0.0.0.0" }
        if let address = try? sockaddr_in.inet(ip4: name, port: port) { return address }
        if let address = try? sockaddr_in6.inet6(ip6: name, port: port) { return address }
        guard let numeric = resolve(name) else {
            throw HTTPServiceError(kind: .invalidAddress, host: host, port: Int(port), reason: "not an IP address and does not resolve")
        }
        if let address = try? sockaddr_in.inet(ip4: numeric, port: port) { return address }
        return try sockaddr_in6.inet6(ip6: numeric, port: port)
    }

    /// The numeric address of a host name, IPv4 preferred: "localhost" resolving to ::1 first
    /// would otherwise leave 127.0.0.1 unanswered.
    private static func resolve(_ name: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let list else { return nil }
        defer { freeaddrinfo(list) }
        var candidates: [addrinfo] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            candidates.append(entry.pointee)
            cursor = entry.pointee.ai_next
        }
        let usable = candidates.filter { $0.ai_family == AF_INET || $0.ai_family == AF_INET6 }
        guard let chosen = usable.first(where: { $0.ai_family == AF_INET }) ?? usable.first, let address = chosen.ai_addr else {
            return nil
        }
        var buffer = [CChar](repeating: 0, count: 1025)
        guard getnameinfo(address, chosen.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Counts requests inside a handler, so that shutdown can wait for exactly those.
private final class RequestTracker: Sendable {
    private let inFlight = Mutex(0)

    func begin() { inFlight.withLock { $0 += 1 } }
    func end() { inFlight.withLock { $0 -= 1 } }

    /// Returns once no request is in a handler, or when cancelled.
    func waitUntilIdle() async {
        while inFlight.withLock({ $0 }) > 0 {
            do { try await Task.sleep(for: .milliseconds(5)) } catch { return }
        }
    }
}

private struct TrackingHandler: HTTPHandler {
    let routes: RoutedHTTPHandler
    let tracker: RequestTracker

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        tracker.begin()
        defer { tracker.end() }
        return try await routes.handleRequest(request)
    }
}

/// FlyingFox logs every connection and request at info; that belongs at trace in a process log,
/// and its errors (client hang-ups, unmatched paths) at debug. Failures that matter reach the
/// caller as thrown errors.
private struct FlyingFoxLogger: FlyingSocks.Logging {
    let logger: Logger

    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("\(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.trace("\(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.debug("\(warning())") }
    func logError(_ error: @autoclosure () -> String) { logger.debug("\(error())") }
    func logCritical(_ critical: @autoclosure () -> String) { logger.debug("\(critical())") }
}
