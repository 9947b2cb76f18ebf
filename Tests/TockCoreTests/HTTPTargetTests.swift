import Testing

@testable import TockCore

@Suite("HTTP request target")
struct HTTPTargetTests {
    @Test("origin and absolute form; the path percent-decoded, the query as sent")
    func parses() throws {
        #expect(try HTTPTarget.parse("/v1/cluster") == HTTPTarget(path: "/v1/cluster"))
        #expect(try HTTPTarget.parse("/v1/messages/a%2Fb%3dc?x=%41") == HTTPTarget(path: "/v1/messages/a/b=c", query: "x=%41"))
        #expect(try HTTPTarget.parse("/%E2%82%AC") == HTTPTarget(path: "/€"))
        #expect(try HTTPTarget.parse("http://host:9464/v1/cluster?a") == HTTPTarget(path: "/v1/cluster", query: "a"))
        #expect(try HTTPTarget.parse("http://host") == HTTPTarget(path: "/"))
        #expect(try HTTPTarget.parse("http://host?q") == HTTPTarget(path: "/", query: "q"))
        #expect(try HTTPTarget.parse("//v1/cluster") == HTTPTarget(path: "//v1/cluster"))
    }

    @Test("broken escapes, bytes that are not UTF-8, control characters and other forms are malformed")
    func malformed() {
        for target in ["/v1/messages/%ff%fe", "/%zz", "/abc%", "/abc%4", "/a%00b", "/a%7Fb", "/a\u{1}b", "*", "v1/cluster", "://x/", "1http://x/"] {
            #expect(throws: HTTPTarget.Malformed.self, "\(target.debugDescription)") { try HTTPTarget.parse(target) }
        }
    }
}
