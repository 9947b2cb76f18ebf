/// A type a reply can be decoded into, e.g. a command's `Response`.
///
/// Error replies never reach these initializers at the top level (they are thrown as
/// `RedisError.server` first); nested ones do, and are thrown by the conformances below.
public protocol RedisReplyDecodable: Sendable {
    init(from value: RedisValue) throws(RedisError)
}

extension RedisError {
    static func mismatch(_ expected: String, _ value: RedisValue) -> RedisError {
        if case .error(let message) = value { return .server(message) }
        return .unexpectedReply("expected \(expected), got \(value.kindName) \(value)")
    }
}

extension RedisValue: RedisReplyDecodable {
    public init(from value: RedisValue) { self = value }
}

extension Int64: RedisReplyDecodable {
    /// Accepts integer replies and strings holding an integer (e.g. `GET` of a counter).
    public init(from value: RedisValue) throws(RedisError) {
        switch value {
        case .integer(let number): self = number
        case .bulkString, .simpleString:
            guard let text = value.string, let number = Int64(text) else { throw .mismatch("integer", value) }
            self = number
        default: throw .mismatch("integer", value)
        }
    }
}

extension Int: RedisReplyDecodable {
    public init(from value: RedisValue) throws(RedisError) {
        let wide = try Int64(from: value)
        guard let narrow = Int(exactly: wide) else { throw .mismatch("integer fitting Int", value) }
        self = narrow
    }
}

extension String: RedisReplyDecodable {
    /// Accepts simple strings and valid UTF-8 bulk strings.
    public init(from value: RedisValue) throws(RedisError) {
        switch value {
        case .simpleString(let text): self = text
        case .bulkString(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .mismatch("UTF-8 string", value) }
            self = text
        default: throw .mismatch("string", value)
        }
    }
}

extension Array: RedisReplyDecodable where Element: RedisReplyDecodable {
    /// `[UInt8]` (Element == UInt8) decodes a bulk string's bytes; other element types decode an array reply.
    public init(from value: RedisValue) throws(RedisError) {
        if Element.self == UInt8.self {
            switch value {
            case .bulkString(let bytes): self = bytes as! [Element]
            case .simpleString(let text): self = [UInt8](text.utf8) as! [Element]
            default: throw .mismatch("bulk string", value)
            }
            return
        }
        guard case .array(let elements) = value else { throw .mismatch("array", value) }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for element in elements { result.append(try Element(from: element)) }
        self = result
    }
}

extension UInt8: RedisReplyDecodable {
    /// Only here so that `[UInt8]` conforms through `Array`; a single byte is never a reply.
    public init(from value: RedisValue) throws(RedisError) {
        guard case .integer(let number) = value, let byte = UInt8(exactly: number) else { throw .mismatch("byte", value) }
        self = byte
    }
}

extension Bool: RedisReplyDecodable {
    /// Integer replies are true when non-zero; `+OK` is true and a null reply false (`SET ... NX`).
    public init(from value: RedisValue) throws(RedisError) {
        switch value {
        case .integer(let number): self = number != 0
        case .simpleString(let text) where text == "OK": self = true
        case .null: self = false
        default: throw .mismatch("boolean", value)
        }
    }
}

extension Optional: RedisReplyDecodable where Wrapped: RedisReplyDecodable {
    public init(from value: RedisValue) throws(RedisError) {
        if case .null = value { self = .none } else { self = .some(try Wrapped(from: value)) }
    }
}

extension Dictionary: RedisReplyDecodable where Key: RedisReplyDecodable, Value: RedisReplyDecodable {
    /// Decodes the flat `[field, value, field, value, ...]` arrays of `HGETALL` and friends.
    public init(from value: RedisValue) throws(RedisError) {
        guard case .array(let elements) = value, elements.count.isMultiple(of: 2) else {
            throw .mismatch("array of field/value pairs", value)
        }
        var result: [Key: Value] = [:]
        result.reserveCapacity(elements.count / 2)
        var index = 0
        while index < elements.count {
            result[try Key(from: elements[index])] = try Value(from: elements[index + 1])
            index += 2
        }
        self = result
    }
}
