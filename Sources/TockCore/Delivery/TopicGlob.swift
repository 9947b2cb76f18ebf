/// One pattern of `output.allowedTopics`: `*` matches any run of characters (also none), `?`
/// exactly one, everything else itself. Matching is byte-wise, which is exact for topic names
/// as they are ASCII; there is no escape, as `*` and `?` cannot occur in a topic name anyway.
public struct TopicGlob: Sendable, Hashable {
    public let pattern: String
    private let bytes: [UInt8]
    private let kind: Kind

    private enum Kind: Hashable {
        case anything  // "*" alone: the default, so worth skipping the matcher
        case literal  // no wildcard: plain equality
        case wildcard
    }

    public init(_ pattern: String) {
        self.pattern = pattern
        bytes = Array(pattern.utf8)
        if bytes.allSatisfy({ $0 == UInt8(ascii: "*") }) && !bytes.isEmpty {
            kind = .anything
        } else if bytes.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }) {
            kind = .wildcard
        } else {
            kind = .literal
        }
    }

    public func matches(_ topic: String) -> Bool {
        switch kind {
        case .anything: return true
        case .literal: return topic.utf8.elementsEqual(bytes)
        case .wildcard:
            var topic = topic
            return topic.withUTF8 { matches(utf8: $0) }
        }
    }

    func matches(utf8 topic: UnsafeBufferPointer<UInt8>) -> Bool {
        switch kind {
        case .anything: return true
        case .literal: return topic.elementsEqual(bytes)
        case .wildcard: return bytes.withUnsafeBufferPointer { Self.match(pattern: $0, topic) }
        }
    }

    /// Greedy matching that, on a mismatch, lets the most recent `*` swallow one more byte.
    /// Only the last `*` ever needs revisiting, so this is O(pattern × topic) at worst with no
    /// recursion, and linear for the usual `prefix.*`.
    private static func match(pattern: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let star = UInt8(ascii: "*"), question = UInt8(ascii: "?")
        var p = 0, t = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count && pattern[p] == star {
                starP = p
                starT = t
                p += 1
            } else if p < pattern.count && (pattern[p] == question || pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if starP >= 0 {
                p = starP + 1
                starT += 1
                t = starT
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == star { p += 1 }
        return p == pattern.count
    }

    /// Why `pattern` cannot match a topic as written, or nil: a character no topic name has (a
    /// typo, or "x=5;y" from a wrong separator) would make a glob that matches nothing, silently.
    public static func problem(ofGlob pattern: String) -> String? {
        guard let bad = pattern.first(where: { !($0.isASCII && (isTopicNameByte($0.asciiValue!) || $0 == "*" || $0 == "?")) }) else { return nil }
        // A control character is shown by its code point, so the message stays one readable line.
        let scalar = bad.unicodeScalars.first!
        let shown = scalar.value < 0x20 || scalar.value == 0x7F ? "U+\(String(scalar.value, radix: 16, uppercase: true))" : String(bad)
        return "\"\(pattern)\" is not a topic glob: \"\(shown)\" cannot be in a topic name (a-z A-Z 0-9 . _ - and the wildcards * ?)"
    }

    static func isTopicNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// Kafka's own rule: 1 to 249 characters of `a-z A-Z 0-9 . _ -`, and not `.` or `..`.
    public static func isValidKafkaTopicName(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isValidKafkaTopicName(utf8: $0) }
    }

    static func isValidKafkaTopicName(utf8 name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard (1...249).contains(name.count) else { return false }
        for byte in name where !isTopicNameByte(byte) { return false }
        let dot = UInt8(ascii: ".")
        return !(name.count <= 2 && name.allSatisfy { $0 == dot })
    }
}
