import Foundation
import Synchronization
import TockConcurrency

#if canImport(Glibc)
    import Glibc
#endif

/// One TCP connection that speaks HTTP by hand, for what a well-behaved client would not send: a
/// request line of 150 KB, headers a byte at a time, nothing at all. Each connection has a
/// thread of its own, so a blocked send or read never holds a thread of the cooperative pool.
final class RawHTTPConnection: Sendable {
    let fd: Int32
    private let thread: BlockingThread
    /// Bytes read past the end of the last response.
    private let pending = Mutex<[UInt8]>([])

    private init(fd: Int32, thread: BlockingThread) {
        self.fd = fd
        self.thread = thread
    }

    deinit { Glibc.close(fd) }

    /// Connects to `host:port` (an IPv4 address).
    static func open(port: UInt16, host: String = "127.0.0.1") async throws -> RawHTTPConnection {
        let thread = BlockingThread(name: "raw-http-client")
        let fd = try await thread.run { () throws -> Int32 in
            let fd = socket(AF_INET, TestSocket.stream, 0)
            guard fd >= 0 else { throw TestSocket.Failure(description: "socket: errno \(errno)") }
            var address = TestSocket.loopback(port: port)
            address.sin_addr.s_addr = inet_addr(host)
            guard TestSocket.withSockaddr(address, { connect(fd, $0, $1) }) == 0 else {
                let code = errno
                Glibc.close(fd)
                throw TestSocket.Failure(description: "connect to \(host):\(port): errno \(code)")
            }
            return fd
        }
        return RawHTTPConnection(fd: fd, thread: thread)
    }

    /// Sends every byte; false once the server closed or reset the connection (or a send blocked
    /// for `stallLimit`: a server that stopped reading).
    @discardableResult
    func send(_ bytes: [UInt8], stallLimit: Duration = .seconds(30)) async -> Bool {
        let fd = fd
        return await thread.run { () -> Bool in
            var timeout = timeval(tv_sec: Int(stallLimit.components.seconds), tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }

    @discardableResult
    func send(_ text: String) async -> Bool { await send(Array(text.utf8)) }

    /// Reads one response: its head, then a body of its Content-Length (or up to the close; none
    /// for a response to HEAD, `toHead`). Throws when none arrives within `within` or the
    /// connection closes first.
    func readResponse(within: Duration = .seconds(5), toHead: Bool = false) async throws -> TestSocket.Response {
        let fd = fd
        return try await thread.run { () throws -> TestSocket.Response in
            let deadline = ContinuousClock.now.advanced(by: within)
            var received = self.pending.withLock { bytes in
                defer { bytes = [] }
                return bytes
            }
            var closed = false
            func complete() -> (body: Range<Int>, head: TestSocket.Response)? {
                guard let headEnd = received.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound,
                    let head = try? TestSocket.parse(String(decoding: received[..<headEnd], as: UTF8.self))
                else { return nil }
                if toHead { return (headEnd..<headEnd, head) }
                if let length = head.headers["content-length"].flatMap(Int.init) {
                    guard received.count >= headEnd + length else { return nil }
                    return (headEnd..<headEnd + length, head)
                }
                return closed ? (headEnd..<received.count, head) : nil
            }
            while true {
                if let (body, head) = complete() {
                    var response = head
                    response.body = String(decoding: received[body], as: UTF8.self)
                    self.pending.withLock { $0 = Array(received[body.upperBound...]) }
                    return response
                }
                if closed {
                    throw TestSocket.Failure(
                        description: "closed before a whole response: \(String(decoding: received, as: UTF8.self).debugDescription)")
                }
                guard let chunk = Self.receive(fd, until: deadline) else {
                    throw TestSocket.Failure(
                        description: "no whole response within \(within): \(String(decoding: received, as: UTF8.self).prefix(300).debugDescription)")
                }
                if chunk.isEmpty { closed = true } else { received += chunk }
            }
        }
    }

    /// Waits until the server closes the connection (end of stream or a reset), discarding what
    /// it sends meanwhile. Returns false if it is still open after `within`.
    func waitForClose(within: Duration) async -> Bool { await drain(within: within).closed }

    /// Reads and drops what arrives until the connection closes or `within` passed: how many
    /// bytes that was, and whether it closed.
    func drain(within: Duration) async -> (bytes: Int, closed: Bool) {
        let fd = fd
        return await thread.run { () -> (bytes: Int, closed: Bool) in
            let deadline = ContinuousClock.now.advanced(by: within)
            var bytes = 0
            while let chunk = Self.receive(fd, until: deadline) {
                if chunk.isEmpty { return (bytes, true) }
                bytes += chunk.count
            }
            return (bytes, false)
        }
    }

    /// Shuts the socket down, which also ends a send or read blocked on it.
    func shutDown() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Up to 64 KiB; [] at the end of the stream or on a reset; nil when nothing came by `deadline`.
    private static func receive(_ fd: Int32, until deadline: ContinuousClock.Instant) -> [UInt8]? {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let millis = Int32(min(left.components.seconds * 1_000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 1_000))
            let ready = poll(&poller, 1, millis)
            if ready < 0 && errno != EINTR { return [] }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return count <= 0 ? [] : Array(chunk[0..<count])
        }
    }
}
