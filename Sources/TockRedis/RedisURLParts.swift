import Foundation

/// The pieces every Redis URL form shares: `scheme://[user:password@]host[:port][,host[:port]…][/path]`.
struct RedisURLParts {
    let original: String
    let scheme: String
    let user: String?
    let password: String?
    let hosts: [(host: String, port: Int)]
    let path: String

    func invalid(_ reason: String) -> RedisError { .invalidURL("\(RedisURL.redacted(original)): \(reason)") }

    init(_ string: String, schemes: Set<String>) throws(RedisError) {
        original = string
        func invalid(_ reason: String) -> RedisError { .invalidURL("\(RedisURL.redacted(string)): \(reason)") }

        guard let schemeEnd = string.range(of: "://") else { throw invalid("missing scheme, expected redis://host:port") }
        let scheme = string[..<schemeEnd.lowerBound].lowercased()
        guard schemes.contains(scheme) else {
            throw invalid("unsupported scheme \"\(scheme)\", expected \(schemes.sorted().joined(separator: ", "))")
        }
        self.scheme = scheme
        var rest = string[schemeEnd.upperBound...]

        // Query strings and fragments carry no options we understand; refusing them beats ignoring a typo'd option.
        if rest.contains("?") || rest.contains("#") { throw invalid("query and fragment are not supported") }

        // The last "@" separates credentials, so a password may contain an unencoded "@" (but not
        // an unencoded "/", which would start the path).
        var user: String?
        var password: String?
        let authority: Substring
        if let at = rest.lastIndex(of: "@"), !rest[..<at].contains("/") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            // "user@host" is ambiguous (some clients read it as a password); ask for the explicit form.
            guard let colon = credentials.firstIndex(of: ":") else {
                throw invalid("credentials must be user:password or :password")
            }
            guard let decodedUser = credentials[..<colon].removingPercentEncoding else { throw invalid("user name has invalid percent-encoding") }
            user = decodedUser.isEmpty ? nil : decodedUser
            guard let decodedPassword = credentials[credentials.index(after: colon)...].removingPercentEncoding else {
                throw invalid("password has invalid percent-encoding")
            }
            guard !decodedPassword.isEmpty else { throw invalid("empty password") }
            password = decodedPassword
        }
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            authority = rest[..<slash]
        } else {
            path = ""
            authority = rest
        }
        self.user = user
        self.password = password

        var hosts: [(host: String, port: Int)] = []
        for item in authority.split(separator: ",", omittingEmptySubsequences: false) {
            hosts.append(try Self.hostAndPort(item, invalid: invalid))
        }
        self.hosts = hosts
    }

    private static func hostAndPort(_ text: Substring, invalid: (String) -> RedisError) throws(RedisError) -> (host: String, port: Int) {
        let host: Substring
        var portText: Substring? = nil
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        var port = RedisURL.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port \"\(portText)\" is not a number in 1...65535")
            }
            port = value
        }
        return (String(host), port)
    }
}
