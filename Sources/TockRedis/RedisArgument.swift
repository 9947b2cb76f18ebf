/// One binary-safe command argument (key, value, option word, number).
public struct RedisArgument: Sendable, Hashable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(bytes: some Sequence<UInt8>) { self.bytes = Array(bytes) }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init(_ string: Substring) { self.bytes = Array(string.utf8) }
    public init(_ value: Int) { self.bytes = Array(String(value).utf8) }
    public init(_ value: Int64) { self.bytes = Array(String(value).utf8) }
    public init(_ value: UInt64) { self.bytes = Array(String(value).utf8) }
}

extension RedisArgument: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

extension RedisArgument: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self.init(value) }
}

extension RedisArgument: CustomStringConvertible {
    public var description: String {
        String(validating: bytes, as: UTF8.self) ?? "<\(bytes.count) bytes>"
    }
}

// Lets keys be written as "\(prefix):name" without wrapping them in RedisArgument(...).
extension RedisArgument: ExpressibleByStringInterpolation {}
