import NIOCore
import TockCore

/// What the handlers of one HTTP connection share: where the request head ends and whether it
/// broke a limit (`HTTPHeadScanner`), the connection's one deadline (`HTTPConnectionDeadlines`),
/// and a 414/431 waiting for the response in flight. Used on the connection's event loop only.
final class HTTPConnectionState {
    let limits: HTTPLimits
    let channel: any Channel
    var scanner: HTTPHeadScanner
    private var deadlines: HTTPConnectionDeadlines
    private var timer: Scheduled<Void>?
    /// Set while a request's head has passed and its end has not: its body is not scanned.
    var inBody = false
    /// Once the server stops: close as soon as no request is under way.
    private var quiescing = false
    /// A 414/431 to send once the responses in flight are sent; then the connection closes.
    private var rejection: HTTPResponse?
    /// Writes a rejection straight to the socket (the guard's context, in front of the encoder).
    var writeRejection: ((HTTPResponse) -> Void)?

    init(channel: any Channel, limits: HTTPLimits) {
        self.channel = channel
        self.limits = limits
        scanner = HTTPHeadScanner(maxLineBytes: limits.maxRequestLineBytes, maxHeaderBytes: limits.maxHeaderBytes)
        deadlines = HTTPConnectionDeadlines(requestMillis: limits.requestTimeoutMillis, idleMillis: limits.idleTimeoutMillis)
    }

    var isIdle: Bool { deadlines.isIdle }

    /// Whether the server is working on a request of it, or sending the answer.
    var isAnswering: Bool { deadlines.isAnswering }

    func note(_ event: HTTPConnectionDeadlines.Event) {
        let now = Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
        switch deadlines.on(event, nowMillis: now) {
        case .closeAt(let millis): closeAt(millis, counting: "timeout")
        case .noDeadline:
            timer?.cancel()
            timer = nil
        case .keep: break
        }
    }

    /// Replaces the deadline: the connection closes at `millis` (uptime) unless replaced again;
    /// a close then counts in `tock_http_refused_total{reason=counting}`.
    func closeAt(_ millis: Int64, counting reason: String? = nil) {
        timer?.cancel()
        let channel = channel
        timer = channel.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, millis)) * 1_000_000)) {
            if let reason, channel.isActive { HTTPService.refused(reason) }
            channel.close(promise: nil)
        }
    }

    /// The decoder passed on a request's end.
    func requestEnded() {
        inBody = false
        scanner.reset()
        note(.requestReceived)
    }

    /// The socket took a response's last byte (or the connection failed first).
    func responseSent() {
        note(.responseSent)
        if deadlines.isAnswering { return }
        if let rejection {
            self.rejection = nil
            writeRejection?(rejection)
        } else if quiescing && isIdle {
            channel.close(promise: nil)
        }
    }

    /// A head broke a limit: answer `response` (now, or once the responses in flight are sent).
    func reject(_ response: HTTPResponse) {
        timer?.cancel()
        timer = nil
        if !deadlines.isAnswering {
            writeRejection?(response)
        } else {
            rejection = response
        }
    }

    /// The server stops: close now if no request is under way, else once it is answered.
    func quiesce() {
        quiescing = true
        if isIdle { channel.close(promise: nil) }
    }

    func closed() {
        timer?.cancel()
        timer = nil
        writeRejection = nil
    }
}
