import Testing

@testable import TockCore

@Suite("tock-tags and tock-action requeue")
struct TagListTests {
    let base = RequestParserTests()
    typealias T = RequestParserTests

    func code(_ headers: [(String, String?)]) -> String? {
        if case .failure(let rejection) = base.parse(T.record(headers)) { return rejection.code.rawValue }
        return nil
    }

    @Test("up to 8 tags of 1–64 printable ASCII bytes are accepted; a tag given twice counts once")
    func valid() throws {
        #expect(try TagList.parse(utf8: Array("user-42,batch:7,user-42".utf8)).get() == ["user-42", "batch:7"])
        let eight = (1...8).map { "t\($0)" }.joined(separator: ",")
        #expect(try TagList.parse(utf8: Array(eight.utf8)).get().count == 8)
        #expect(try TagList.parse(utf8: Array(String(repeating: "x", count: 64).utf8)).get().count == 1)
        #expect(code(T.base + [("tock-tags", "user-42,batch-7")]) == nil)
        // SPEC: printable ASCII, and a space is printable; it is part of the tag as given.
        #expect(try TagList.parse(utf8: Array("user 42, b".utf8)).get() == ["user 42", " b"])
    }

    @Test("9 tags, an empty tag, a 65-byte tag, a space, a null value: bad-tags, after bad-id and before missing-topic")
    func invalid() {
        for value: String? in [
            (1...9).map { "t\($0)" }.joined(separator: ","), "a,,b", "", String(repeating: "x", count: 65), "user\t42", "caf\u{e9}", nil,
        ] {
            #expect(code(T.base + [("tock-tags", value)]) == "bad-tags", "\(value ?? "null")")
        }
        #expect(code([("tock-tags", ""), ("tock-id", "a b")]) == "bad-id")
        #expect(code([("tock-tags", "")]) == "bad-tags")
        // A cancel ignores tags.
        #expect(code([("tock-action", "cancel"), ("tock-id", "x"), ("tock-tags", "")]) == nil)
    }

    @Test("TagList.header refuses a tag with a comma, and what parse refuses")
    func header() throws {
        #expect(try TagList.header(for: ["a", "b"]).get() == "a,b")
        #expect(throws: RequestRejection.self) { try TagList.header(for: ["a,b"]).get() }
        #expect(throws: RequestRejection.self) { try TagList.header(for: (1...9).map(String.init)).get() }
    }

    @Test("tock-action requeue: a message like a reschedule's, whose id may be an occurrence's; no series headers")
    func requeue() throws {
        let headers: [(String, String?)] = [("tock-action", "requeue"), ("tock-id", "s@1795262400000"), ("tock-topic", "out"), ("tock-at", "0")]
        guard case .success(.requeue(let message)) = base.parse(T.record(headers)) else {
            Issue.record("not a requeue")
            return
        }
        #expect(message.id == "s@1795262400000" && message.idWasGiven && message.topic == "out")
        #expect(code([("tock-action", "requeue"), ("tock-topic", "out"), ("tock-at", "0")]) == "bad-id")
        #expect(code(headers + [("tock-every", "1m")]) == "bad-recurrence")
        #expect(code([("tock-id", "s@1"), ("tock-topic", "out"), ("tock-at", "0")]) == "bad-id")
    }
}

@Suite("api configuration")
struct APIConfigurationTests {
    func load(_ environment: [String: String]) throws -> TockConfiguration {
        var reader = try ConfigurationReader(yaml: nil, sourceName: "none", environment: environment)
        return try TockConfiguration(reading: &reader)
    }

    @Test("TOCK_API_TOKENS takes name:role:sha256hex entries; a bad or repeated one is an error naming api.tokens")
    func tokens() throws {
        let digest = String(repeating: "ab", count: 32)
        let loaded = try load(["TOCK_API_TOKENS": "ops:write:\(digest), view:read:\(digest)", "TOCK_API_RATE_LIMIT": "5"])
        #expect(loaded.api.tokens.map(\.name) == ["ops", "view"] && loaded.api.tokens.map(\.role) == [.write, .read])
        #expect(loaded.api.rateLimit == 5 && loaded.api.auditTopic == "tock.audit")
        #expect(try load([:]).api.tokens.isEmpty)
        for bad in ["ops:write:my-secret-token", "ops:write:\(digest),ops:read:\(digest)", "ops:root:\(digest)"] {
            do {
                _ = try load(["TOCK_API_TOKENS": bad])
                Issue.record("accepted \(bad)")
            } catch let error as ConfigurationError {
                #expect(error.key == "api.tokens" && !error.description.contains("my-secret-token"))
            }
        }
    }
}
