import Crypto
import Foundation
import TockCore

/// Who may do what under `/v1/` (SPEC "The operators' API", "Access"). Pure: the caller passes
/// the `Authorization` header and whether the request writes.
///
/// - With tokens configured, every request carries `Authorization: Bearer <token>`: none, or one
///   that matches no token, is 401; a `read` token on a write is 403.
/// - With none configured, reads are open and writes are 403.
///
/// The presented token is hashed and its digest compared with every configured one in constant
/// time, all of them every time, so neither the answer's timing nor a matching prefix tells an
/// attacker anything.
public struct APIAccess: Sendable {
    public enum Decision: Sendable, Equatable {
        case allowed(caller: String)
        case refused(status: Int, caller: String, reason: String)

        /// The name the audit trail and the rate limit know the caller by: a token's name, or
        /// `anonymous` / `invalid` (never the token).
        public var caller: String {
            switch self {
            case .allowed(let caller), .refused(_, let caller, _): caller
            }
        }
    }

    public static let anonymous = "anonymous"
    public static let invalid = "invalid"

    public let tokens: [APIToken]

    public init(tokens: [APIToken]) {
        self.tokens = tokens
    }

    public func decide(authorization: String?, isWrite: Bool) -> Decision {
        guard !tokens.isEmpty else {
            if isWrite {
                return .refused(status: 403, caller: Self.anonymous, reason: "writes are off: no API token is configured (api.tokens)")
            }
            return .allowed(caller: Self.anonymous)
        }
        guard let presented = Self.bearer(authorization) else {
            return .refused(status: 401, caller: Self.anonymous, reason: "give a token: Authorization: Bearer <token>")
        }
        guard let token = match(presented) else {
            return .refused(status: 401, caller: Self.invalid, reason: "the token is not valid")
        }
        if isWrite && token.role != .write {
            return .refused(status: 403, caller: token.name, reason: "the token \"\(token.name)\" may only read")
        }
        return .allowed(caller: token.name)
    }

    /// The token of `Bearer <token>` (the scheme in any case), or nil.
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : String(token)
    }

    private func match(_ presented: String) -> APIToken? {
        let digest = Array(SHA256.hash(data: Array(presented.utf8)))
        var found: APIToken?
        for token in tokens where Self.constantTimeEqual(token.digest, digest) && found == nil {
            found = token
        }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
