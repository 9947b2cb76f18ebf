import Testing
import TockRedis

/// Expects `parse` to throw `RedisError.invalidURL` with a message that `matches`.
func expectInvalidURL(_ parse: () throws -> Void, _ matches: (String) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(sourceLocation: sourceLocation) {
        try parse()
    } throws: { error in
        guard case .invalidURL(let message) = error as? RedisError else { return false }
        return matches(message)
    }
}
