/// Where one Redis node listens, as a cluster map or a Sentinel names it.
public struct RedisNodeAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, as in MOVED and ASK replies (an IPv6 host is not bracketed there).
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.host, lhs.port) < (rhs.host, rhs.port) }
}

extension RedisURL {
    public var address: RedisNodeAddress { RedisNodeAddress(host: host, port: port) }

    /// This URL's credentials at another node.
    public func at(_ address: RedisNodeAddress) -> RedisURL {
        RedisURL(host: address.host, port: address.port, user: user, password: password, database: database)
    }
}
