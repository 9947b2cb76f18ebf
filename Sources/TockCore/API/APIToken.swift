/// One configured API token (`api.tokens`, `TOCK_API_TOKENS`): a name for the audit trail, a
/// role, and the SHA-256 of the token. The token itself is never configured, logged or kept.
public struct APIToken: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        /// `GET` under `/v1/`.
        case read
        /// Everything a `read` token may, and the writes.
        case write
    }

    public struct ParseError: Error, Equatable, Sendable {
        public var message: String
    }

    public var name: String
    public var role: Role
    /// 32 bytes.
    public var digest: [UInt8]

    public init(name: String, role: Role, digest: [UInt8]) {
        self.name = name
        self.role = role
        self.digest = digest
    }

    /// `name:role:sha256hex`. The error never repeats the digest part: an operator who pasted the
    /// token there by mistake must not find it in a log.
    public init(parsing entry: String) throws(ParseError) {
        let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw ParseError(message: "an entry has \(parts.count) part(s); each must be name:role:sha256hex (the SHA-256 of the token, in hex)")
        }
        let name = parts[0]
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ",") }) else {
            throw ParseError(message: "a token name must be 1 to 64 printable ASCII characters without spaces or commas")
        }
        guard let role = Role(rawValue: parts[1]) else {
            throw ParseError(message: "the token \"\(name)\" has the role \"\(parts[1])\"; roles are read and write")
        }
        guard let digest = Self.bytes(hex: parts[2]), digest.count == 32 else {
            throw ParseError(
                message:
                    "the token \"\(name)\" needs the SHA-256 of the token as 64 hex digits (e.g. printf %s TOKEN | sha256sum), not the token itself")
        }
        self.init(name: name, role: role, digest: digest)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
