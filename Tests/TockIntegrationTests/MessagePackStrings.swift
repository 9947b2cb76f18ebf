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
        /// A size (an array's count, a string's length) read after its tag: in the tag's low bits
        /// (`mask`) for a tag of the fix form, else in the next 1, 2 or 4 bytes, as `widths` has it
        /// for the tag.
        func size(fix: ClosedRange<Int>, mask: Int, widths: [Int: Int]) throws -> Int {
            let tag = Int(try take(1).first!)
            if fix.contains(tag) { return tag & mask }
            guard let width = widths[tag] else { throw Malformed() }
            return try number(width)
        }
        let count = try size(fix: 0x90...0x9F, mask: 0x0F, widths: [0xDC: 2, 0xDD: 4])
        return try (0..<count).map { _ in
            let length = try size(fix: 0xA0...0xBF, mask: 0x1F, widths: [0xD9: 1, 0xDA: 2, 0xDB: 4])
            return String(decoding: try take(length), as: UTF8.self)
        }
    }
}
