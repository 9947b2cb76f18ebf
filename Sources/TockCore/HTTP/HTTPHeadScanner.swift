#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds where an HTTP/1.1 request head ends and enforces SPEC's limits on it, before any parser
/// sees it: a request line over `maxLineBytes` (8 KiB) gets 414, header lines over
/// `maxHeaderBytes` (16 KiB) in all get 431. A client can so make the server look at no more
/// than 24 KiB per request however long its line or headers are.
///
/// What is counted: the request line's bytes before its line feed, without the carriage return
/// that ends it (empty lines before it count too: a stream of them is no way around the limit);
/// every header line's bytes with its CR LF; not the empty line that ends the head.
public struct HTTPHeadScanner: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// Every byte given belongs to this head, which is not complete yet.
        case needMore
        /// The head ends after this many of the bytes given (its last line feed included).
        case headEnds(after: Int)
        /// 414: the request line is longer than `maxLineBytes`.
        case lineTooLong
        /// 431: the header lines are longer than `maxHeaderBytes` in all.
        case headersTooLarge
    }

    private enum Phase: Sendable, Equatable {
        case line
        case headers
        case done
    }

    public let maxLineBytes: Int
    public let maxHeaderBytes: Int
    private var phase = Phase.line
    private var lineBytes = 0
    /// Whether the request line has had a byte other than CR or LF yet.
    private var lineHasContent = false
    /// Whether the request line's last byte so far is a CR (one piece may end between CR and LF).
    private var lastLineByteWasCarriageReturn = false
    private var headerBytes = 0
    /// Bytes of the header line being read, and a CR at its start held back (not counted): it
    /// is the end-of-head line's own when a line feed follows.
    private var headerLineBytes = 0
    private var heldCarriageReturn = false
    /// The limit broken, once one was.
    private var overLimit: Verdict?

    public init(maxLineBytes: Int = 8_192, maxHeaderBytes: Int = 16_384) {
        self.maxLineBytes = maxLineBytes
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Whether no byte of a head has been seen since the start (or the last `reset`).
    public var isAtStart: Bool { phase == .line && lineBytes == 0 }

    /// Starts on the next request's head.
    public mutating func reset() { self = HTTPHeadScanner(maxLineBytes: maxLineBytes, maxHeaderBytes: maxHeaderBytes) }

    /// Scans the next bytes of the head. After `.headEnds` the rest belongs to the body or the
    /// next request (call `reset` first); after a limit verdict the scanner stays there.
    public mutating func scan(_ bytes: some Collection<UInt8>) -> Verdict {
        if let verdict = bytes.withContiguousStorageIfAvailable({ scan(UnsafeRawBufferPointer($0)) }) { return verdict }
        return Array(bytes).withUnsafeBytes { scan($0) }
    }

    /// The same, on raw bytes: line by line (memchr finds each line feed), so that a debug build
    /// too scans 24 KiB cheaply.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        if phase == .done { return overLimit ?? .headEnds(after: 0) }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .needMore }
        var start = 0
        while start < bytes.count {
            let rest = bytes.count - start
            let found = memchr(base + start, Int32(lineFeed), rest).map { $0 - UnsafeMutableRawPointer(mutating: base) }
            let end = found ?? bytes.count
            let segment = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            switch phase {
            case .line:
                lineBytes += segment.count
                if !lineHasContent, segment.contains(where: { $0 != carriageReturn }) { lineHasContent = true }
                if found != nil && !lineHasContent {
                    // An empty line before the request line: counted, and skipped.
                    lineBytes += 1
                    if lineBytes > maxLineBytes { return tooLong() }
                } else {
                    // A CR may be the one ending the line, which is not counted.
                    let lastIsCarriageReturn = segment.last.map { $0 == carriageReturn } ?? lastLineByteWasCarriageReturn
                    if lineBytes - (lastIsCarriageReturn ? 1 : 0) > maxLineBytes { return tooLong() }
                    lastLineByteWasCarriageReturn = lastIsCarriageReturn
                    if found != nil { phase = .headers }
                }
            case .headers:
                if headerLineBytes == 0 {
                    // At a line's start: a lone CR, or nothing, before the line feed is the
                    // end-of-head line, which is not counted.
                    let pending = (heldCarriageReturn ? 1 : 0) + segment.count
                    let blank = pending == 0 || (pending == 1 && (heldCarriageReturn || segment[0] == carriageReturn))
                    if blank {
                        if found != nil {
                            phase = .done
                            return .headEnds(after: end + 1)
                        }
                        heldCarriageReturn = pending == 1
                    } else {
                        heldCarriageReturn = false
                        headerBytes += pending + (found != nil ? 1 : 0)
                        headerLineBytes = found != nil ? 0 : pending
                    }
                } else {
                    headerBytes += segment.count + (found != nil ? 1 : 0)
                    headerLineBytes = found != nil ? 0 : headerLineBytes + segment.count
                }
                if headerBytes > maxHeaderBytes { return tooLarge() }
            case .done:
                break
            }
            start = end + 1
        }
        return .needMore
    }

    private mutating func tooLong() -> Verdict {
        phase = .done
        overLimit = .lineTooLong
        return .lineTooLong
    }

    private mutating func tooLarge() -> Verdict {
        phase = .done
        overLimit = .headersTooLarge
        return .headersTooLarge
    }
}

private let lineFeed = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
