import Foundation
import NIOCore

/// Where an HTTP server listens: `http.host` (an IP address or a name, IPv4 preferred) and
/// `http.port`.
enum HTTPAddress {
    static func endpoint(host: String, port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func describe(_ address: SocketAddress?, fallbackHost: String, port: Int) -> String {
        guard let address, let ip = address.ipAddress, let bound = address.port else { return endpoint(host: fallbackHost, port: port) }
        return endpoint(host: ip, port: bound)
    }

    /// The address for `host` and `port`; `*` or an empty host means every IPv4 address.
    static func make(host: String, port: Int) throws(HTTPServiceError) -> SocketAddress {
        guard (0...65_535).contains(port) else {
            throw HTTPServiceError(kind: .invalidAddress, host: host, port: port, reason: "port must be 0...65535")
        }
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.isEmpty || name == "*" { name = "0.0.0.0" }
        if let address = try? SocketAddress(ipAddress: name, port: port) { return address }
        guard let numeric = resolve(name), let address = try? SocketAddress(ipAddress: numeric, port: port) else {
            throw HTTPServiceError(kind: .invalidAddress, host: host, port: port, reason: "not an IP address and does not resolve")
        }
        return address
    }

    /// The numeric address of a host name, IPv4 preferred: "localhost" resolving to ::1 first
    /// would otherwise leave 127.0.0.1 unanswered.
    private static func resolve(_ name: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let list else { return nil }
        defer { freeaddrinfo(list) }
        var candidates: [addrinfo] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            candidates.append(entry.pointee)
            cursor = entry.pointee.ai_next
        }
        let usable = candidates.filter { $0.ai_family == AF_INET || $0.ai_family == AF_INET6 }
        guard let chosen = usable.first(where: { $0.ai_family == AF_INET }) ?? usable.first, let address = chosen.ai_addr else {
            return nil
        }
        var buffer = [CChar](repeating: 0, count: 1025)
        guard getnameinfo(address, chosen.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
