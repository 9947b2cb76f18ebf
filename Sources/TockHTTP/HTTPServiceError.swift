import Foundation

/// Whether the process can do its work, for `/readyz`.
public struct ReadinessReport: Sendable, Equatable {
    public var ready: Bool
    /// Why the process is not ready; one line each in the `/readyz` body.
    public var reasons: [String]
    /// What an operator should know even while it is ready (a clock it corrects for); one line
    /// each, after the answer.
    public var notes: [String]

    public init(ready: Bool, reasons: [String] = [], notes: [String] = []) {
        self.ready = ready
        self.reasons = reasons
        self.notes = notes
    }

    /// Ready exactly when there is no reason not to be.
    public init(reasons: [String], notes: [String] = []) {
        self.init(ready: reasons.isEmpty, reasons: reasons, notes: notes)
    }
}

/// A failure of the HTTP side of a process; the description always names `host:port`.
public struct HTTPServiceError: Error, LocalizedError, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `http.host` is neither an IP address nor a name that resolves to one, or the port is out of range.
        case invalidAddress
        /// The listening socket could not be set up (typically: the port is in use).
        case listenFailed
        /// The server stopped with an error after it was listening.
        case serverFailed
        /// The service was made with port 0, so there is nothing to wait for.
        case disabled
    }

    public var kind: Kind
    public var host: String
    public var port: Int
    public var reason: String

    public var endpoint: String { HTTPAddress.endpoint(host: host, port: port) }

    public var description: String {
        switch kind {
        case .invalidAddress: "invalid HTTP listen address \(endpoint): \(reason)"
        case .listenFailed: "cannot listen for HTTP on \(endpoint): \(reason)"
        case .serverFailed: "HTTP server on \(endpoint) failed: \(reason)"
        case .disabled: "HTTP is off (port 0), so nothing listens on \(endpoint)"
        }
    }

    public var errorDescription: String? { description }
}
