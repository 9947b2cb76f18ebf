import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Serves `/metrics`, `/healthz` and `/readyz` (and any extra routes) on `host:port` until
/// graceful shutdown. Port 0 turns HTTP off: `run()` then only waits for graceful shutdown.
///
/// SwiftNIO's HTTP/1.1 codec on a thread of its own (`HTTPThread`), which also runs the routes:
/// nothing a client does reaches Swift's cooperative pool, so no client can delay firing. SPEC's
/// limits hold before NIO's parser sees a byte (`HTTPRequestGuard`, `HTTPLimits`): request line
/// 8 KiB (414), headers 16 KiB (431), a whole request within 10 s, 60 s idle.
///
/// A `ServiceGroup` shuts its services down last-to-first, so put this service first: it then
/// keeps answering scrapes and probes while the rest of the process drains.
public struct HTTPService: Service {
    public typealias Route = @Sendable (HTTPRequest) async -> HTTPResponse

    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    public let host: String
    public let port: Int
    public let limits: HTTPLimits
    private let address: SocketAddress?
    private let addressError: HTTPServiceError?
    private let router: HTTPRouter
    private let listening = ListeningState()
    private let logger: Logger

    // How long requests under way may take to finish once graceful shutdown closed the listener.
    private static let drainSeconds: Int64 = 2

    /// - Parameter extraRoutes: keyed by pattern, e.g. `"GET /v1/cluster"` or `"GET /v1/messages/*"`
    ///   (`HTTPRouter`). The built-in routes take precedence; extra routes are tried in key order.
    public init(
        host: String,
        port: Int,
        metrics: TockMetrics,
        readiness: @escaping @Sendable () async -> ReadinessReport,
        extraRoutes: [String: Route] = [:],
        limits: HTTPLimits = HTTPLimits(),
        logger: Logger
    ) {
        self.host = host
        self.port = port
        self.limits = limits
        self.logger = logger
        router = Self.makeRouter(metrics: metrics, readiness: readiness, extraRoutes: extraRoutes)
        guard port != 0 else {
            (address, addressError) = (nil, nil)
            return
        }
        do {
            (address, addressError) = (try HTTPAddress.make(host: host, port: port), nil)
        } catch {
            (address, addressError) = (nil, error)
        }
    }

    /// False when port is 0.
    public var isEnabled: Bool { port != 0 }

    public func run() async throws {
        if let addressError { throw addressError }
        guard let address else {
            logger.info("HTTP off (http.port is 0)")
            // Keep the lifetime of an HTTP-on service, so the group does not see it finish early.
            try? await gracefulShutdown()
            return
        }
        try await serve(on: address)
    }

    /// Waits until the server accepts connections and returns the port it listens on.
    /// Throws when HTTP is off or the server is not listening within `timeout`.
    public func waitUntilListening(timeout: Duration = .seconds(5)) async throws -> UInt16 {
        if let addressError { throw addressError }
        guard address != nil else { throw HTTPServiceError(kind: .disabled, host: host, port: port, reason: "") }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            switch listening.current {
            case .listening(let bound): return bound
            case .failed(let error): throw error
            case .starting where ContinuousClock.now < deadline: try await Task.sleep(for: .milliseconds(5))
            case .starting: throw HTTPServiceError(kind: .listenFailed, host: host, port: port, reason: "not listening within \(timeout)")
            }
        }
    }

    private func serve(on address: SocketAddress) async throws {
        let thread = HTTPThread()
        let registry = HTTPConnectionRegistry(maxConnections: limits.maxConnections)
        let (limits, router) = (self.limits, self.router)
        let server: NIOAsyncChannel<HTTPConnectionChannel?, Never>
        do {
            server = try await ServerBootstrap(group: thread.group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(to: address) { channel in
                    // Whatever fails in setting up one connection (a client that reset it as it was
                    // accepted, an option the socket refuses) closes that connection only: an error out
                    // of here would end the accept loop, and the server with it.
                    channel.eventLoop.makeCompletedFuture {
                        // TCP_NODELAY at its own level: `.socketOption(.tcp_nodelay)` is SOL_SOCKET's
                        // option 1, SO_DEBUG, which a container without CAP_NET_ADMIN refuses (EACCES).
                        try? channel.syncOptions?.setOption(.tcpOption(.tcp_nodelay), value: 1)
                        do {
                            return try HTTPServerConnection.configure(channel, limits: limits, registry: registry)
                        } catch {
                            channel.close(promise: nil)
                            return nil
                        }
                    }
                }
        } catch {
            await thread.shutdown()
            let failure = classify(error)
            listening.set(.failed(failure))
            throw failure
        }
        let bound = server.channel.localAddress
        listening.set(.listening(UInt16(bound?.port ?? port)))
        logger.info("HTTP listening", metadata: ["address": "\(HTTPAddress.describe(bound, fallbackHost: host, port: port))"])

        let stopping = StopFlag()
        let stop: @Sendable () -> Void = {
            stopping.set()
            server.channel.close(promise: nil)
            registry.quiesceAll()
            thread.loop.scheduleTask(in: .seconds(Self.drainSeconds)) { registry.closeAll() }
        }
        // The accept loop and every connection run on the server's own thread.
        let ended: (any Error)? = await withTaskExecutorPreference(thread) {
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    await withDiscardingTaskGroup { group in
                        do {
                            try await server.executeThenClose { connections in
                                for try await connection in connections {
                                    guard let connection else { continue }
                                    group.addTask {
                                        await HTTPServerConnection.serve(connection, router: router, limits: limits) { stopping.isSet }
                                    }
                                }
                            }
                            return nil
                        } catch {
                            return error
                        }
                    }
                } onGracefulShutdown: {
                    stop()
                }
            } onCancel: {
                server.channel.close(promise: nil)
                registry.closeAll()
            }
        }
        await thread.shutdown()
        if !stopping.isSet && !Task.isCancelled {
            // The listener closed by itself: the process would go on without its probes.
            throw HTTPServiceError(kind: .serverFailed, host: host, port: port, reason: ended.map { "\($0)" } ?? "stopped unexpectedly")
        }
        logger.debug("HTTP stopped")
    }

    private func classify(_ error: any Error) -> HTTPServiceError {
        if let error = error as? IOError {
            let reason = String(cString: strerror(error.errnoCode))
            return HTTPServiceError(kind: .listenFailed, host: host, port: port, reason: "\(reason) (errno \(error.errnoCode))")
        }
        return HTTPServiceError(kind: .listenFailed, host: host, port: port, reason: "\(error)")
    }

    /// Counts a connection or request refused for a limit, by reason: `request-line` (414),
    /// `headers` (431), `body` (413), `timeout`, `connections`.
    static func refused(_ reason: String) {
        Counter(label: "tock_http_refused_total", dimensions: [("reason", reason)]).increment()
    }

    // MARK: Routes

    private static func makeRouter(
        metrics: TockMetrics,
        readiness: @escaping @Sendable () async -> ReadinessReport,
        extraRoutes: [String: Route]
    ) -> HTTPRouter {
        var router = HTTPRouter()
        router.add("GET /metrics") { _ in
            HTTPResponse(contentType: metricsContentType, body: Array(metrics.render().utf8))
        }
        router.add("GET /healthz") { _ in .text(200, "ok\n") }
        router.add("GET /readyz") { _ in
            let report = await readiness()
            if report.ready { return .text(200, (["ready"] + report.notes).joined(separator: "\n") + "\n") }
            return .text(503, ((report.reasons.isEmpty ? ["not ready"] : report.reasons) + report.notes).joined(separator: "\n") + "\n")
        }
        for (pattern, route) in extraRoutes.sorted(by: { $0.key < $1.key }) { router.add(pattern, route) }
        return router
    }
}

/// Set once the server stops: responses from then on close their connection.
private final class StopFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// Whether the server listens yet, for `waitUntilListening`.
private final class ListeningState: Sendable {
    enum State: Sendable {
        case starting
        case listening(UInt16)
        case failed(HTTPServiceError)
    }

    private let state = Mutex(State.starting)

    var current: State { state.withLock { $0 } }
    func set(_ new: State) { state.withLock { $0 = new } }
}
