/// Reads the one MessagePack shape the store writes: an array of strings (a lock's ids).
enum MessagePackStrings {
    struct Malformed: Error {}

    static func decode(_ bytes: [UInt8]) throws -> [String] {
        var index = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard index + count <= bytes.count else { throw Malformed() }
            defer { index += count }
            return bytes[index..<index + count]
        }
        func number(_ width: Int) throws -> Int { try take(width).reduce(0) { $0 << 8 | Int($1) } }
        let head = Int(try take(1).first!)
        let count: Int
        switch head {
        case 0x90...0x9F: count = head & 0x0F
        case 0xDC: count = try number(2)
        case 0xDD: count = try number(4)
        default: throw Malformed()
        }
        return try (0..<count).map { _ in
            let tag = Int(try take(1).first!)
            let length: Int
            switch tag {
            case 0xA0...0xBF: length = tag & 0x1F
            case 0xD9: length = try number(1)
            case 0xDA: length = try number(2)
            case 0xDB: length = try number(4)
            default: throw Malformed()
            }
            return String(decoding: try take(length), as: UTF8.self)
        }
    }
}
