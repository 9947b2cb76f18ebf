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
        func invalid(_ reason: String) -> RedisError { .invalidURL("\(RedisURL.redacted(string)): \(reason)") }

        guard let schemeEnd = string.range(of: "://") else { throw invalid("missing scheme, expected redis://host:port") }
        let scheme = string[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else { throw invalid("unsupported scheme \"\(scheme)\", expected redis") }
        var rest = string[schemeEnd.upperBound...]

        // Query strings and fragments carry no options we understand; refusing them beats ignoring a typo'd option.
        if rest.contains("?") || rest.contains("#") { throw invalid("query and fragment are not supported") }

        var pathPart: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            pathPart = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        // The last "@" separates credentials, so a password may contain an unencoded "@".
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            // "user@host" is ambiguous (some clients read it as a password); ask for the explicit form.
            guard let colon = credentials.firstIndex(of: ":") else {
                throw invalid("credentials must be user:password or :password")
            }
            let rawUser = credentials[..<colon]
            let rawPassword = credentials[credentials.index(after: colon)...]
            guard let decodedUser = rawUser.removingPercentEncoding else { throw invalid("user name has invalid percent-encoding") }
            user = decodedUser.isEmpty ? nil : decodedUser
            guard let decodedPassword = rawPassword.removingPercentEncoding else { throw invalid("password has invalid percent-encoding") }
            guard !decodedPassword.isEmpty else { throw invalid("empty password") }
            password = decodedPassword
        }

        let host: Substring
        var portText: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw invalid("missing host") }

        var port = RedisURL.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port \"\(portText)\" is not a number in 1...65535")
            }
            port = value
        }

        var database = 0
        if !pathPart.isEmpty {
            guard let value = Int(pathPart), value >= 0 else { throw invalid("database \"\(pathPart)\" is not a non-negative integer") }
            database = value
        }

        self.init(host: String(host), port: port, user: user, password: password, database: database)
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

    private static func redacted(_ string: String) -> String {
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
