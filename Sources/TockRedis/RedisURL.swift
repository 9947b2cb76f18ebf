import Foundation

/// Where and how to reach one Redis server: `redis://[user:pass@]host[:port][/db]`.
///
/// Only TCP is supported; `rediss://` (TLS) and unix sockets are rejected rather than silently
/// downgraded, because hiredis 0.14 as packaged here has no TLS.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// ACL user name (Redis 6+). `nil` authenticates as the default user.
    public var user: String?
    public var password: String?
    public var database: Int

    public static let defaultPort = 6379

    public init(host: String, port: Int = RedisURL.defaultPort, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    public init(_ string: String) throws(RedisError) {
        let parts = try RedisURLParts(string, schemes: ["redis"])
        guard parts.hosts.count == 1 else { throw parts.invalid("one host expected, got \(parts.hosts.count)") }
        var database = 0
        if !parts.path.isEmpty {
            guard let value = Int(parts.path), value >= 0 else { throw parts.invalid("database \"\(parts.path)\" is not a non-negative integer") }
            database = value
        }
        self.init(host: parts.hosts[0].host, port: parts.hosts[0].port, user: parts.user, password: parts.password, database: database)
    }

    /// The URL with the password masked, safe for logs.
    public var description: String {
        var text = "redis://"
        if user != nil || password != nil {
            text += user.map { $0.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? $0 } ?? ""
            if password != nil { text += ":***" }
            text += "@"
        }
        text += host.contains(":") ? "[\(host)]" : host
        text += ":\(port)"
        if database != 0 { text += "/\(database)" }
        return text
    }

    static func redacted(_ string: String) -> String {
        // Error messages end up in logs; never echo a password back.
        guard let schemeEnd = string.range(of: "://"),
            let at = string[schemeEnd.upperBound...].lastIndex(of: "@")
        else { return string }
        let credentials = string[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else {
            return string[..<schemeEnd.upperBound] + "***" + string[at...]
        }
        return string[..<colon] + ":***" + string[at...]
    }
}
