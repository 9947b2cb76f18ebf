import Metrics
import NIOCore
import NIOHTTP1
import Synchronization

typealias HTTPConnectionChannel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

/// One accepted connection: its pipeline, and the loop that answers its requests in order.
enum HTTPServerConnection {
    /// The parser's own limits, behind `HTTPRequestGuard`'s: they bound a head the guard could not
    /// scan (pipelined right after a body) with a 400.
    static func decoderLimits(_ limits: HTTPLimits) -> NIOHTTPDecoderLimitConfiguration {
        var decoder = NIOHTTPDecoderLimitConfiguration()
        decoder.maxHeaderFieldSize = max(limits.maxRequestLineBytes, limits.maxHeaderBytes)
        decoder.maxHeaderListSize = limits.maxRequestLineBytes + limits.maxHeaderBytes
        decoder.maxHeaderFieldCount = 1_000
        return decoder
    }

    /// Sets up a new connection's pipeline, on its event loop: guard, NIO's HTTP/1.1 codec (a
    /// parse error gets 400 and a close), the exchange tracker. At `limits.maxConnections`, the
    /// oldest connection the server is not answering makes room (`HTTPConnectionRegistry`).
    static func configure(_ channel: any Channel, limits: HTTPLimits, registry: HTTPConnectionRegistry) throws -> HTTPConnectionChannel {
        let state = HTTPConnectionState(channel: channel, limits: limits)
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(HTTPRequestGuard(state: state))
        try pipeline.addHandler(HTTPResponseEncoder())
        // The parser consumes what it reads but for after an upgrade request (none is served):
        // the bound keeps such a connection from piling bytes up until its deadline.
        try pipeline.addHandler(
            ByteToMessageHandler(
                HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: decoderLimits(limits)),
                maximumBufferSize: 256 * 1_024))
        try pipeline.addHandler(HTTPServerProtocolErrorHandler())
        try pipeline.addHandler(HTTPExchangeTracker(state: state))
        let wrapped = try HTTPConnectionChannel(wrappingChannelSynchronously: channel)
        if !registry.admit(channel, state: state) {
            HTTPService.refused("connections")
            channel.close(promise: nil)
        }
        return wrapped
    }

    /// Answers the connection's requests one after another until it closes, the client asks to
    /// close, or the server stops.
    static func serve(_ connection: HTTPConnectionChannel, router: HTTPRouter, limits: HTTPLimits, stopping: @escaping @Sendable () -> Bool) async {
        let remote = connection.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var bodyTooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let next):
                    (head, body, bodyTooLarge) = (next, [], false)
                case .body(let chunk):
                    if body.count + chunk.readableBytes > limits.maxBodyBytes {
                        bodyTooLarge = true
                    } else if !bodyTooLarge {
                        body += chunk.readableBytesView
                    }
                case .end:
                    guard let request = head else { return }
                    head = nil
                    let response: HTTPResponse
                    if bodyTooLarge {
                        HTTPService.refused("body")
                        response = .error(413, "the request's body is larger than \(limits.maxBodyBytes) bytes")
                    } else {
                        response = await router.respond(
                            method: request.method.rawValue, target: request.uri, headers: request.headers.map { ($0.name, $0.value) },
                            body: body, remote: remote)
                    }
                    let keepAlive = request.isKeepAlive && !bodyTooLarge && !stopping()
                    try await outbound.write(contentsOf: parts(of: response, for: request, keepAlive: keepAlive))
                    if !keepAlive { return }
                }
            }
        }
    }

    static func parts(of response: HTTPResponse, for request: HTTPRequestHead, keepAlive: Bool) -> [HTTPServerResponsePart] {
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.add(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        var parts: [HTTPServerResponsePart] = [.head(head)]
        if request.method != .HEAD && !response.body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: response.body)))) }
        parts.append(.end(nil))
        return parts
    }
}

/// The open connections of one server: to cap their number, and to quiesce or close them all
/// when it stops.
///
/// At the cap, a new connection is not refused: the oldest one the server is not answering (idle,
/// or still sending its request) is closed to make room. So a client that holds every connection
/// it can get cannot keep a health probe out; it only loses its own oldest connections. Only when
/// the server is answering on every connection is the new one closed.
final class HTTPConnectionRegistry: Sendable {
    /// A connection and its state. The state is read only on the server's one event loop, where
    /// `admit` runs (`HTTPThread`).
    private struct Entry: @unchecked Sendable {
        var channel: any Channel
        var state: HTTPConnectionState
        var sequence: UInt64
    }

    private let open = Mutex<(entries: [ObjectIdentifier: Entry], sequence: UInt64)>(([:], 0))
    let maxConnections: Int

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    /// Registers `channel` until it closes, making room at the cap; false (and not registered)
    /// when every open connection is being answered.
    func admit(_ channel: any Channel, state: HTTPConnectionState) -> Bool {
        let key = ObjectIdentifier(channel)
        let (admitted, evicted) = open.withLock { open -> (Bool, (any Channel)?) in
            var evicted: (any Channel)?
            if open.entries.count >= maxConnections {
                guard let oldest = open.entries.filter({ !$0.value.state.isAnswering }).min(by: { $0.value.sequence < $1.value.sequence }) else {
                    return (false, nil)
                }
                open.entries[oldest.key] = nil
                evicted = oldest.value.channel
            }
            open.sequence += 1
            open.entries[key] = Entry(channel: channel, state: state, sequence: open.sequence)
            return (true, evicted)
        }
        if let evicted {
            HTTPService.refused("connections")
            evicted.close(promise: nil)
        }
        if admitted { channel.closeFuture.whenComplete { _ in _ = self.open.withLock { $0.entries.removeValue(forKey: key) } } }
        return admitted
    }

    /// Each connection closes now if no request is under way, else once it is answered.
    func quiesceAll() {
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
    }

    func closeAll() {
        for channel in channels { channel.close(promise: nil) }
    }

    private var channels: [any Channel] { open.withLock { $0.entries.values.map(\.channel) } }
}
