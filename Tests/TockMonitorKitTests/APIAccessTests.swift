import Crypto
import Foundation
import Testing
import TockCore

@testable import TockMonitorKit

@Suite("API access: tokens, roles, rate limits")
struct APIAccessTests {
    static func digest(_ token: String) -> String { SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined() }

    let access = APIAccess(tokens: [
        try! APIToken(parsing: "ops:write:\(digest("secret-write"))"), try! APIToken(parsing: "viewer:read:\(digest("secret-read"))"),
    ])

    @Test("with tokens: none or a wrong one is 401, a read token on a write 403, the right ones pass; the scheme is case-insensitive")
    func decisions() {
        #expect(
            access.decide(authorization: nil, isWrite: false)
                == .refused(status: 401, caller: "anonymous", reason: "give a token: Authorization: Bearer <token>"))
        #expect(access.decide(authorization: "Bearer nope", isWrite: false).status == 401)
        #expect(access.decide(authorization: "Bearer nope", isWrite: false).caller == "invalid")
        #expect(access.decide(authorization: "Basic c2VjcmV0LXJlYWQ=", isWrite: false).status == 401)
        #expect(access.decide(authorization: "Bearer secret-read", isWrite: false) == .allowed(caller: "viewer"))
        #expect(access.decide(authorization: "bearer  secret-read", isWrite: false) == .allowed(caller: "viewer"))
        #expect(access.decide(authorization: "Bearer secret-read", isWrite: true).status == 403)
        #expect(access.decide(authorization: "Bearer secret-write", isWrite: true) == .allowed(caller: "ops"))
        #expect(access.decide(authorization: "Bearer secret-write", isWrite: false) == .allowed(caller: "ops"))
    }

    @Test("with no token configured, reads are open and writes are 403")
    func noTokens() {
        let open = APIAccess(tokens: [])
        #expect(open.decide(authorization: nil, isWrite: false) == .allowed(caller: "anonymous"))
        #expect(open.decide(authorization: "Bearer anything", isWrite: true).status == 403)
    }

    @Test("a refusal's reason never carries the token")
    func noTokenInReasons() {
        for header in ["Bearer secret-read", "Bearer wrong-token-value"] {
            if case .refused(_, _, let reason) = access.decide(authorization: header, isWrite: true) {
                #expect(!reason.contains("secret-read") && !reason.contains("wrong-token-value"))
            }
        }
    }

    @Test("token entries: name:role:sha256hex; a wrong entry's error names neither token nor digest")
    func parsing() throws {
        let token = try APIToken(parsing: "ops:write:\(Self.digest("x").uppercased())")
        #expect(token.name == "ops" && token.role == .write && token.digest.count == 32)
        for entry in ["ops:write", "ops:admin:\(Self.digest("x"))", ":read:\(Self.digest("x"))", "ops:read:plain-token-here", "ops:read:abc"] {
            #expect(throws: APIToken.ParseError.self) { try APIToken(parsing: entry) }
            do {
                _ = try APIToken(parsing: entry)
            } catch {
                #expect(!error.message.contains("plain-token-here") && !error.message.contains(Self.digest("x")))
            }
        }
    }

    @Test("constant-time comparison: equal only for equal bytes of equal length")
    func compare() {
        #expect(APIAccess.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!APIAccess.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!APIAccess.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    @Test("rate limit: a burst of twice the rate, then the rate; callers are counted apart; the table stays bounded")
    func rateLimit() {
        var limiter = APIRateLimiter(rate: 5, maxCallers: 100)
        let admitted = (0..<20).filter { _ in limiter.admit("a", nowMillis: 0) }.count
        #expect(admitted == 10)
        let other = limiter.admit("b", nowMillis: 0)
        let tooSoon = limiter.admit("a", nowMillis: 100)
        let refilled = limiter.admit("a", nowMillis: 200)
        #expect(other && !tooSoon && refilled)
        #expect((0..<6).filter { _ in limiter.admit("a", nowMillis: 1_200) }.count == 5)
        for caller in 0..<1_000 { _ = limiter.admit("c\(caller)", nowMillis: 2_000) }
        #expect(limiter.callerCount <= 100)
    }
}

extension APIAccess.Decision {
    var status: Int? { if case .refused(let status, _, _) = self { status } else { nil } }
}
