/// A request target as Tock's HTTP servers read it: the path percent-decoded, the query as sent.
/// Origin form (`/v1/messages/a%2Fb?x=1`) and absolute form (`http://host/v1/cluster`, which
/// RFC 9112 says a server must accept) are taken; anything else is malformed, and so is a path
/// whose escapes are broken, whose bytes are not UTF-8, or that holds a control character.
public struct HTTPTarget: Sendable, Equatable {
    public var path: String
    public var query: String

    public init(path: String, query: String = "") {
        self.path = path
        self.query = query
    }

    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Reads `raw`, the target of a request line.
    public static func parse(_ raw: String) throws(Malformed) -> HTTPTarget {
        var target = Substring(raw)
        if !target.hasPrefix("/") {
            // Absolute form: the path starts after "scheme://authority".
            guard let separator = target.range(of: "://"), separator.lowerBound > target.startIndex,
                target[..<separator.lowerBound].allSatisfy({ $0.isASCII && $0.isLetter })
            else { throw Malformed(description: "the target must be a path starting with /") }
            let rest = target[separator.upperBound...]
            let path = rest[(rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex)...]
            target = path.hasPrefix("/") ? path : "/" + path
        }
        let question = target.firstIndex(of: "?")
        let query = question.map { String(target[target.index(after: $0)...]) } ?? ""
        return HTTPTarget(path: try decode(target[..<(question ?? target.endIndex)].utf8), query: query)
    }

    private static func decode(_ raw: Substring.UTF8View) throws(Malformed) -> String {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            var byte = raw[index]
            if byte == UInt8(ascii: "%") {
                let high = raw.index(after: index)
                guard high < raw.endIndex, raw.index(after: high) < raw.endIndex,
                    let upper = hexValue(raw[high]), let lower = hexValue(raw[raw.index(after: high)])
                else { throw Malformed(description: "the path has a % not followed by two hex digits") }
                byte = upper << 4 | lower
                index = raw.index(index, offsetBy: 3)
            } else {
                index = raw.index(after: index)
            }
            if byte < 0x20 || byte == 0x7F { throw Malformed(description: "the path holds a control character") }
            decoded.append(byte)
        }
        guard let path = String(validating: decoded, as: UTF8.self) else {
            throw Malformed(description: "the path's escapes do not decode to UTF-8")
        }
        return path
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
