import Testing
import TockCore

@testable import TockMonitorKit

@Suite("API bodies into request records")
struct APIRequestRecordTests {
    let parser = RequestParser(maxPayloadBytes: 1_024, maxHorizonMillis: 86_400_000, allowedTopics: ["*"])
    let now: Int64 = 1_795_262_400_000

    func record(_ json: String, action: APIRequestRecord.Action = .schedule, id: String? = nil) throws -> APIRequestRecord {
        try APIRequestRecord.make(try APIMessageBody.decode(Array(json.utf8)), action: action, id: id)
    }

    func header(_ record: APIRequestRecord, _ name: String) -> String? {
        record.headers.last { $0.key == name }.map { String(decoding: $0.value ?? [], as: UTF8.self) }
    }

    @Test("each field becomes its header; numbers are accepted for times and counts; copied headers come first, by name")
    func fields() throws {
        let r = try record(
            #"{"topic":"orders","at":1795262460000,"id":"o-1","key":"k","value":"hi","headers":{"b":"2","a":"1"},"tags":["user-42","t"]}"#)
        #expect(r.headers.prefix(2).map(\.key) == ["a", "b"])
        #expect(header(r, "tock-topic") == "orders" && header(r, "tock-at") == "1795262460000" && header(r, "tock-id") == "o-1")
        #expect(header(r, "tock-tags") == "user-42,t" && header(r, "tock-action") == nil)
        #expect(r.key == Array("k".utf8) && r.value == Array("hi".utf8))
        guard case .success(.schedule(let message)) = r.check(with: parser, inputTopic: "tock.requests", nowMillis: now) else {
            Issue.record("not accepted")
            return
        }
        #expect(message.dueMillis == 1_795_262_460_000 && message.headers.map(\.key) == ["a", "b"])
        let series = try record(#"{"topic":"o","every":"1m","count":3,"catchup":"none"}"#)
        #expect(header(series, "tock-count") == "3" && header(series, "tock-every") == "1m")
    }

    @Test("valueBase64 is decoded; no value is null; both, bad base64, unknown fields, tock- headers and a wrong type are bad-body")
    func badBodies() throws {
        #expect(try record(#"{"topic":"o","delay":"1s","valueBase64":"AAEC"}"#).value == [0, 1, 2])
        #expect(try record(#"{"topic":"o","delay":"1s"}"#).value == nil)
        for json in [
            #"{"value":"a","valueBase64":"AA=="}"#, #"{"valueBase64":"%%%"}"#, #"{"topc":"o"}"#, #"{"headers":{"tock-id":"x"}}"#, #"{"topic":5}"#,
            #"[1]"#, #"{"#,
        ] {
            #expect(throws: APIBodyError.self, "\(json)") { try record(json) }
        }
        #expect(try record("  ").headers.isEmpty)
    }

    @Test("what the worker would reject is refused with its code: missing-time, topic-not-allowed, bad-tags, bad-id")
    func rejections() throws {
        func code(_ r: APIRequestRecord) -> String? {
            if case .failure(let rejection) = r.check(with: parser, inputTopic: "tock.requests", nowMillis: now) { return rejection.code.rawValue }
            return nil
        }
        #expect(code(try record(#"{"topic":"o"}"#)) == "missing-time")
        #expect(code(try record(#"{"topic":"tock.dead","delay":1}"#)) == "topic-not-allowed")
        #expect(code(try record(#"{"topic":"o","delay":1,"id":"a b"}"#)) == "bad-id")
        #expect(throws: APIBodyError(#"the tag "a,b" has a comma; tags are separated by commas in tock-tags."#, code: "bad-tags")) {
            try record(#"{"topic":"o","delay":1,"tags":["a,b"]}"#)
        }
        #expect(code(.cancel(id: "x")) == nil)
        #expect(code(.cancel(id: "x y")) == "bad-id")
    }

    @Test("a path's id wins; a different one in the body is bad-body; a reschedule and a requeue carry their action")
    func actions() throws {
        let r = try record(#"{"topic":"o","delay":1}"#, action: .reschedule, id: "m-1")
        #expect(header(r, "tock-action") == "reschedule" && header(r, "tock-id") == "m-1")
        #expect(throws: APIBodyError.self) { try record(#"{"id":"m-2","delay":1}"#, action: .reschedule, id: "m-1") }
        let q = try record(#"{"topic":"o","at":0}"#, action: .requeue, id: "s@5")
        guard case .success(.requeue) = q.check(with: parser, inputTopic: "t", nowMillis: now) else {
            Issue.record("a requeue does not parse as one")
            return
        }
    }
}
