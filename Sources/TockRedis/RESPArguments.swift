/// Command arguments written straight into RESP bulk strings (`$<length>\r\n<bytes>\r\n`), with
/// their count: a script call of thousands of arguments is one buffer, handed to hiredis as is
/// (`redisAppendFormattedCommand`), not one array per argument copied and formatted again.
public struct RESPArguments: Sendable, Hashable {
    public private(set) var count = 0
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public init(_ arguments: [RedisArgument]) {
        for argument in arguments { append(argument) }
    }

    public mutating func reserveCapacity(_ byteCount: Int) { bytes.reserveCapacity(byteCount) }

    public mutating func append(_ argument: RedisArgument) { append(argument.bytes) }

    public mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { append(bytes: $0) }
    }

    public mutating func append(_ value: [UInt8]) { value.withUnsafeBufferPointer { append(bytes: $0) } }

    public mutating func append(_ value: Int) { append(Int64(value)) }

    public mutating func append(_ value: Int64) {
        Self.withDecimal(value) { append(bytes: $0) }
    }

    private mutating func append(bytes value: UnsafeBufferPointer<UInt8>) {
        count += 1
        bytes.append(UInt8(ascii: "$"))
        Self.withDecimal(Int64(value.count)) { bytes.append(contentsOf: $0) }
        bytes.append(13)
        bytes.append(10)
        bytes.append(contentsOf: value)
        bytes.append(13)
        bytes.append(10)
    }

    /// `value` in decimal ASCII, formatted on the stack: most arguments are numbers, and every
    /// argument has a length.
    private static func withDecimal(_ value: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes hold any Int64
        withUnsafeMutableBytes(of: &storage) { raw in
            var end = raw.count
            var magnitude = value.magnitude
            repeat {
                end -= 1
                raw[end] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                end -= 1
                raw[end] = UInt8(ascii: "-")
            }
            body(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[end...]))
        }
    }

    public static func += (lhs: inout RESPArguments, rhs: [RedisArgument]) {
        for argument in rhs { lhs.append(argument) }
    }

    /// A whole command: the RESP array header, then `parts` in order.
    public static func command(_ parts: RESPArguments...) -> [UInt8] {
        var command: [UInt8] = [UInt8(ascii: "*")]
        command.reserveCapacity(24 + parts.reduce(0) { $0 + $1.bytes.count })
        withDecimal(Int64(parts.reduce(0) { $0 + $1.count })) { command.append(contentsOf: $0) }
        command.append(13)
        command.append(10)
        for part in parts { command.append(contentsOf: part.bytes) }
        return command
    }
}

extension RESPArguments: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: RedisArgument...) { self.init(elements) }
}

/// A value that can be one RESP argument.
public protocol RESPEncodable {
    func append(to arguments: inout RESPArguments)
}

extension RESPArguments {
    /// Appends each value as one argument.
    public mutating func add<each Value: RESPEncodable>(_ values: repeat each Value) {
        repeat (each values).append(to: &self)
    }
}

extension String: RESPEncodable {
    public func append(to arguments: inout RESPArguments) { arguments.append(self) }
}

extension Int: RESPEncodable {
    public func append(to arguments: inout RESPArguments) { arguments.append(self) }
}

extension Int64: RESPEncodable {
    public func append(to arguments: inout RESPArguments) { arguments.append(self) }
}

extension Array: RESPEncodable where Element == UInt8 {
    public func append(to arguments: inout RESPArguments) { arguments.append(self) }
}

extension RedisArgument: RESPEncodable {
    public func append(to arguments: inout RESPArguments) { arguments.append(self) }
}

extension RESPArguments {
    /// The first argument's bytes: a script call's first key, which decides its cluster slot.
    public var first: ArraySlice<UInt8>? {
        guard count > 0, bytes.first == UInt8(ascii: "$"), let end = bytes.firstIndex(of: 13) else { return nil }
        var length = 0
        for digit in bytes[1..<end] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            length = length * 10 + Int(digit - UInt8(ascii: "0"))
        }
        let start = end + 2
        guard start + length <= bytes.count else { return nil }
        return bytes[start..<(start + length)]
    }
}
