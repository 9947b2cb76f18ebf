import NIOCore
import NIOHTTP1
import TockCore

/// First in the pipeline, before NIO's parser: scans each request head as its bytes arrive and
/// answers 414 or 431 as soon as the request line or the headers pass their limit, so no parser
/// ever holds more than the limits. A rejected connection's output is closed after the answer
/// and what the client still sends is dropped until it closes (or `limits.lingerMillis`, or
/// 256 KiB): closing with unread input would reset the connection, and the client could lose
/// the answer.
///
/// A request's body is passed on unscanned until the decoder reports the request's end. A head
/// pipelined in the same read as the end of a body therefore passes unscanned too; the
/// decoder's own limits (`HTTPServerConnection.decoderLimits`) still bound it, with a 400.
final class HTTPRequestGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: HTTPConnectionState
    /// Bytes dropped since the answer to a rejected head; nil until a head is rejected.
    private var dropped: Int?
    private var isOpen = false

    init(state: HTTPConnectionState) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let state = state
        state.writeRejection = { [unowned state] response in
            let answer = Self.encode(response, allocator: context.channel.allocator)
            context.writeAndFlush(Self.wrapOutboundOut(answer)).assumeIsolated().whenComplete { _ in
                context.close(mode: .output, promise: nil)
            }
            state.closeAt(Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) + state.limits.lingerMillis)
        }
        // An accepted connection is active before its handlers are added.
        if context.channel.isActive { opened() }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened()
        context.fireChannelActive()
    }

    private func opened() {
        guard !isOpen else { return }
        isOpen = true
        state.note(.opened)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.closed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        if let dropped {
            self.dropped = dropped + buffer.readableBytes
            if dropped + buffer.readableBytes > 256 * 1_024 { context.close(promise: nil) }
            return
        }
        while buffer.readableBytes > 0 && context.channel.isActive {
            if state.inBody {
                context.fireChannelRead(Self.wrapInboundOut(buffer))
                return
            }
            if state.scanner.isAtStart { state.note(.requestStarted) }
            let verdict = buffer.withUnsafeReadableBytes { state.scanner.scan($0) }
            switch verdict {
            case .needMore:
                context.fireChannelRead(Self.wrapInboundOut(buffer))
                return
            case .headEnds(let length):
                let head = buffer.readSlice(length: length)!
                // The decoder reports a bodiless request's end while it reads the head, which
                // resets the scanner for what follows; a request with a body waits for its end.
                state.inBody = true
                context.fireChannelRead(Self.wrapInboundOut(head))
            case .lineTooLong:
                HTTPService.refused("request-line")
                reject(HTTPResponse.error(414, "the request line is longer than \(state.limits.maxRequestLineBytes) bytes"))
                return
            case .headersTooLarge:
                HTTPService.refused("headers")
                reject(HTTPResponse.error(431, "the request's headers are longer than \(state.limits.maxHeaderBytes) bytes"))
                return
            }
        }
    }

    private func reject(_ response: HTTPResponse) {
        dropped = 0
        state.reject(response)
    }

    static func encode(_ response: HTTPResponse, allocator: ByteBufferAllocator) -> ByteBuffer {
        let reason = HTTPResponseStatus(statusCode: response.status).reasonPhrase
        var head = "HTTP/1.1 \(response.status) \(reason)\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        var buffer = allocator.buffer(capacity: head.utf8.count + response.body.count)
        buffer.writeString(head)
        buffer.writeBytes(response.body)
        return buffer
    }
}

/// After the decoder: tells the connection's state when a request ends and when the socket took
/// a response, for the deadlines and the scanner; closes the connection when the server stops.
final class HTTPExchangeTracker: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: HTTPConnectionState

    init(state: HTTPConnectionState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = Self.unwrapInboundIn(data) { state.requestEnded() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch Self.unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            // From the first byte of a response: a client that stops reading cannot keep a large
            // one (and the connection) waiting for ever.
            state.note(.responseQueued)
            context.write(data, promise: promise)
        case .end:
            let written = promise ?? context.eventLoop.makePromise()
            let state = state
            written.futureResult.assumeIsolated().whenComplete { _ in state.responseSent() }
            context.write(data, promise: written)
        case .head, .body:
            context.write(data, promise: promise)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            state.quiesce()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
