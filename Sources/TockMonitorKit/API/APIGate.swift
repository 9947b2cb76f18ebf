import Foundation
import Logging
import Metrics
import Synchronization
import TockCore
import TockHTTP

/// What a route under `/v1/` answers, and what the audit trail should say about it.
public struct APIOutcome: Sendable {
    public var response: HTTPResponse
    /// The tock-id (or tag, or job) the request named or was given.
    public var id: String?
    /// Why it was refused or failed; nil when it succeeded.
    public var reason: String?

    public init(_ response: HTTPResponse, id: String? = nil, reason: String? = nil) {
        self.response = response
        self.id = id
        self.reason = reason
    }

    public static func error(_ status: Int, _ message: String, code: String? = nil, id: String? = nil) -> APIOutcome {
        var body = ["error": message]
        if let code { body["code"] = code }
        return APIOutcome(.json(body, status: status), id: id, reason: code.map { "\($0): \(message)" } ?? message)
    }
}

/// Puts every route under `/v1/` behind access (`APIAccess`), the rate limit per token (per
/// address for refused requests; `APIRateLimiter`, 429) and, for writes, the audit trail: every write, allowed or refused, is
/// recorded on `api.auditTopic` before it is answered; when that record cannot be written, the
/// answer is 503 (and says whether the write itself went through).
public final class APIGate: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, _ caller: String) async -> APIOutcome

    private let access: APIAccess
    private let limiter: Mutex<APIRateLimiter>
    private let writer: APIWriter
    private let clock: any WallClock
    private let logger: Logger

    public init(configuration: TockConfiguration, writer: APIWriter, clock: any WallClock, logger: Logger) {
        access = APIAccess(tokens: configuration.api.tokens)
        limiter = Mutex(APIRateLimiter(rate: configuration.api.rateLimit))
        self.writer = writer
        self.clock = clock
        self.logger = logger
    }

    public func read(_ handler: @escaping Handler) -> HTTPService.Route {
        route(isWrite: false, handler)
    }

    public func write(_ handler: @escaping Handler) -> HTTPService.Route {
        route(isWrite: true, handler)
    }

    private func route(isWrite: Bool, _ handler: @escaping Handler) -> HTTPService.Route {
        { [self] request in
            let decision = access.decide(authorization: request.header("Authorization"), isWrite: isWrite)
            let outcome: APIOutcome
            let host = Self.host(of: request.remote)
            // Per token (SPEC); a request refused for its token, or its lack, per address, so that
            // guessing is slow. Open reads (no token configured) are not limited, as before the API.
            let limitKey: String? =
                switch decision {
                case .allowed(let caller): caller == APIAccess.anonymous ? nil : "token:\(caller)"
                case .refused: "remote:\(host)"
                }
            if let limitKey, !limiter.withLock({ $0.admit(limitKey, nowMillis: clock.nowMillis()) }) {
                var refused = APIOutcome.error(429, "too many requests; at most api.rateLimit a second are allowed")
                refused.response.headers.append(("Retry-After", "1"))
                outcome = refused
            } else {
                switch decision {
                case .refused(let status, _, let reason):
                    var refused = APIOutcome.error(status, reason)
                    if status == 401 { refused.response.headers.append(("WWW-Authenticate", "Bearer")) }
                    outcome = refused
                case .allowed(let caller):
                    outcome = await handler(request, caller)
                }
            }
            Counter(label: "tock_api_requests_total", dimensions: [("status", String(outcome.response.status)), ("write", String(isWrite))])
                .increment()
            guard isWrite else { return outcome.response }
            return await audited(outcome, request: request, caller: decision.caller)
        }
    }

    private func audited(_ outcome: APIOutcome, request: HTTPRequest, caller: String) async -> HTTPResponse {
        let entry = APIAuditEntry(
            time: clock.nowMillis(), token: caller, remote: request.remote, method: request.method, path: request.path,
            status: outcome.response.status, id: outcome.id, reason: outcome.reason)
        do {
            try await writer.audit(entry)
            return outcome.response
        } catch {
            Counter(label: "tock_api_audit_failures_total").increment()
            logger.error(
                "API write not audited",
                metadata: ["method": "\(request.method)", "path": "\(request.path)", "status": "\(entry.status)", "error": "\(error)"])
            let done = (200..<300).contains(entry.status)
            return .error(
                503,
                "the audit record could not be written (\(error)); "
                    + (done ? "the request itself was written (\(outcome.id ?? "")), so do not repeat it blindly" : "nothing was done"))
        }
    }

    /// The address without its port (`[::1]:5000` → `::1`).
    static func host(of remote: String) -> String {
        guard let colon = remote.lastIndex(of: ":") else { return remote }
        return String(remote[..<colon])
    }
}
