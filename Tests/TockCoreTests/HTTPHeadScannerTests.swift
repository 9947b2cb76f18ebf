import Testing

@testable import TockCore

@Suite("HTTP head scanner")
struct HTTPHeadScannerTests {
    /// Feeds `text` in pieces of `chunk` bytes: the first verdict but `.needMore` (a head's end
    /// counted from the start of `text`), and where in `text` the piece that gave it started.
    static func scan(_ text: String, chunk: Int = .max, scanner: HTTPHeadScanner = HTTPHeadScanner()) -> (HTTPHeadScanner.Verdict, Int) {
        var scanner = scanner
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let piece = bytes[offset..<min(bytes.count, offset + chunk)]
            let verdict = scanner.scan(piece)
            if case .headEnds(let after) = verdict { return (.headEnds(after: offset + after), offset + after) }
            if verdict != .needMore { return (verdict, offset) }
            offset += piece.count
        }
        return (.needMore, offset)
    }

    static func line(length: Int) -> String {
        "GET /\(String(repeating: "a", count: length - "GET / HTTP/1.1".count)) HTTP/1.1"
    }

    @Test("a head ends after its empty line, whatever the pieces it arrives in; what follows is not read")
    func headEnd() {
        let head = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        for chunk in [1, 2, 7, 1_000] {
            let (verdict, end) = Self.scan(head + "GET /next HTTP/1.1\r\n", chunk: chunk)
            #expect(verdict != .needMore && end == head.utf8.count, "chunk \(chunk): \(verdict) at \(end)")
        }
        #expect(Self.scan("GET / HTTP/1.1\n\n").1 == 16)
        #expect(Self.scan("GET / HTTP/1.1\r\nA: b\r\n").0 == .needMore)
    }

    @Test("a request line of 8192 bytes passes, 8193 is 414; so is a stream of empty lines")
    func requestLine() {
        #expect(Self.scan(Self.line(length: 8_192) + "\r\n\r\n").0 == .headEnds(after: 8_196))
        #expect(Self.scan(Self.line(length: 8_192) + "\n\n").0 == .headEnds(after: 8_194))
        #expect(Self.scan(Self.line(length: 8_193) + "\r\n\r\n").0 == .lineTooLong)
        // Found as soon as the line is too long, not at its end.
        let (verdict, at) = Self.scan(Self.line(length: 150_000), chunk: 4_096)
        #expect(verdict == .lineTooLong && at == 8_192)
        #expect(Self.scan(String(repeating: "\r\n", count: 5_000)).0 == .lineTooLong)
        // A CR inside the line counts.
        #expect(Self.scan(Self.line(length: 8_192) + "\rX\r\n\r\n").0 == .lineTooLong)
    }

    @Test("16384 bytes of header lines pass, 16385 are 431; the end-of-head line does not count")
    func headers() {
        func headers(_ bytes: Int) -> String {
            // "X: " + value + CRLF
            "X: \(String(repeating: "v", count: bytes - 5))\r\n"
        }
        let line = "GET / HTTP/1.1\r\n"
        #expect(Self.scan(line + headers(16_384) + "\r\n").0 == .headEnds(after: line.utf8.count + 16_386))
        #expect(Self.scan(line + headers(16_385) + "\r\n").0 == .headersTooLarge)
        #expect(Self.scan(line + headers(8_000) + headers(8_384) + "\r\n", chunk: 3).0 == .headEnds(after: line.utf8.count + 16_386))
        #expect(Self.scan(line + headers(8_000) + headers(8_385) + "\r\n", chunk: 3).0 == .headersTooLarge)
        #expect(Self.scan(line + String(repeating: "X: y\r\n", count: 1_000_000)).0 == .headersTooLarge)
    }

    @Test("after a verdict over a limit the scanner stays there; reset starts the next head")
    func resetAndStay() {
        var scanner = HTTPHeadScanner(maxLineBytes: 10, maxHeaderBytes: 10)
        #expect(scanner.isAtStart)
        #expect(scanner.scan(Array("GET /aaaaaaaaaa".utf8)) == .lineTooLong)
        #expect(scanner.scan(Array("more".utf8)) == .lineTooLong)
        scanner.reset()
        #expect(scanner.isAtStart)
        #expect(scanner.scan(Array("GET / H\n".utf8)) == .needMore)
        #expect(!scanner.isAtStart)
        #expect(scanner.scan(Array("A: b\r\n\r\nrest".utf8)) == .headEnds(after: 8))
    }
}

/// The scanner's rules byte by byte, the plainest way: what `HTTPHeadScanner` must agree with.
private struct ReferenceHeadScanner {
    let maxLine: Int
    let maxHeaders: Int

    /// The verdict for a whole text, and where a head ends.
    func verdict(_ bytes: [UInt8]) -> HTTPHeadScanner.Verdict {
        var inLine = true
        var (lineBytes, lineHasContent, headerBytes, headerLineBytes, held) = (0, false, 0, 0, false)
        for (index, byte) in bytes.enumerated() {
            if inLine {
                if byte == 10 {
                    if lineHasContent {
                        inLine = false
                    } else {
                        lineBytes += 1
                        if lineBytes > maxLine { return .lineTooLong }
                    }
                    continue
                }
                lineBytes += 1
                if byte != 13 { lineHasContent = true }
                if lineBytes - (byte == 13 ? 1 : 0) > maxLine { return .lineTooLong }
            } else {
                if byte == 10 {
                    if headerLineBytes == 0 { return .headEnds(after: index + 1) }
                    headerBytes += 1
                    headerLineBytes = 0
                    held = false
                } else if byte == 13 && headerLineBytes == 0 && !held {
                    held = true
                    continue
                } else {
                    let count = held ? 2 : 1
                    held = false
                    headerBytes += count
                    headerLineBytes += count
                }
                if headerBytes > maxHeaders { return .headersTooLarge }
            }
        }
        return .needMore
    }
}

extension HTTPHeadScannerTests {
    @Test("agrees with the byte-by-byte rules on 20,000 random heads, split at random")
    func randomHeads() {
        var random = SplitMix64(seed: 25)
        let alphabet: [UInt8] = [13, 10, 10, 13, 65, 66, 58, 32]
        for _ in 0..<20_000 {
            let length = Int(random.next() % 60)
            let bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let (maxLine, maxHeaders) = (Int(random.next() % 12), Int(random.next() % 16))
            let expected = ReferenceHeadScanner(maxLine: maxLine, maxHeaders: maxHeaders).verdict(bytes)
            var scanner = HTTPHeadScanner(maxLineBytes: maxLine, maxHeaderBytes: maxHeaders)
            var offset = 0
            var verdict = HTTPHeadScanner.Verdict.needMore
            while offset < bytes.count && verdict == .needMore {
                let piece = Array(bytes[offset..<min(bytes.count, offset + 1 + Int(random.next() % 7))])
                verdict = scanner.scan(piece)
                if case .headEnds(let after) = verdict { verdict = .headEnds(after: offset + after) }
                offset += piece.count
            }
            #expect(verdict == expected, "\(bytes) line ≤ \(maxLine), headers ≤ \(maxHeaders)")
            if verdict != expected { return }
        }
    }
}
