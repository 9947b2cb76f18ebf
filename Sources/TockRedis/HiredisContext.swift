import CHiredis
import Foundation

/// Owns one blocking hiredis context. Not thread-safe: its owner confines it to one thread.
///
/// The raw pointer never escapes: callers get it only for the duration of `withPointer`, and
/// `deinit` is the single place that frees it.
final class HiredisContext {
    private let pointer: UnsafeMutablePointer<redisContext>

    /// Connects and applies the command timeout. Throws `.connection` when the server cannot be reached.
    init(host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) {
        guard let context = redisConnectWithTimeout(host, Int32(port), Self.timeval(connectTimeout)) else {
            throw .connection("cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            throw .connection("connect to \(host):\(port): \(message)")
        }
        pointer = context
        // Without a read timeout a silent server (paused, partitioned) would block the thread forever.
        if redisSetTimeout(context, Self.timeval(commandTimeout)) != REDIS_OK {
            throw .connection("cannot set timeout: \(Self.errorString(context))")
        }
        // Keep-alive notices a dead peer on an idle connection instead of at the next command.
        _ = redisEnableKeepAlive(context)
    }

    deinit { redisFree(pointer) }

    func withPointer<T>(_ body: (UnsafeMutablePointer<redisContext>) throws(RedisError) -> T) throws(RedisError) -> T {
        try body(pointer)
    }

    /// Sends all commands, then reads one reply per command: a single round trip.
    ///
    /// Any failure of the context itself (I/O, EOF, timeout, protocol) is thrown; the context
    /// is then unusable and must be dropped. Error replies are returned as `.error` values.
    func roundTrip(_ commands: [[UInt8]]) throws(RedisError) -> [RedisValue] {
        for command in commands { try append(command) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Queues one command already in RESP form (`RESPArguments.command`).
    private func append(_ command: [UInt8]) throws(RedisError) {
        let status: Int32 = command.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(pointer, $0.baseAddress, $0.count) }
        }
        if status != REDIS_OK { throw contextError() }
    }

    private func readReply() throws(RedisError) -> RedisValue {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(pointer, &raw) == REDIS_OK, let raw else { throw contextError() }
        defer { freeReplyObject(raw) }
        return try RedisValue(reply: raw.assumingMemoryBound(to: redisReply.self))
    }

    private func contextError() -> RedisError {
        // hiredis reports an expired SO_RCVTIMEO/SO_SNDTIMEO as a bare EAGAIN.
        let timedOut = errno == EAGAIN || errno == EWOULDBLOCK
        var message = Self.errorString(pointer)
        if pointer.pointee.err == REDIS_ERR_IO && timedOut { message = "timed out (\(message))" }
        switch pointer.pointee.err {
        case REDIS_ERR_PROTOCOL: return .protocolError(message)
        case REDIS_ERR_EOF: return .connection(message.isEmpty ? "server closed the connection" : message, code: pointer.pointee.err)
        default: return .connection(message.isEmpty ? "hiredis error \(pointer.pointee.err)" : message, code: pointer.pointee.err)
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func timeval(_ duration: Duration) -> Foundation.timeval {
        let (seconds, attoseconds) = duration.components
        return Foundation.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

extension HiredisContext {
    /// Whether the idle socket is readable or hung up. RESP2 servers never speak unasked, so
    /// either means the server closed the connection (or sent an error before doing so).
    func peerHasClosed() -> Bool {
        let fd: Int32 = (try? withPointer { $0.pointee.fd }) ?? -1
        guard fd >= 0 else { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }
}
