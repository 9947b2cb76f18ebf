import Testing

@testable import TockCore

@Suite("Request parser")
struct RequestParserTests {
    /// 2026-11-21T12:00:00Z.
    static let now: Int64 = 1_795_262_400_000
    /// The request record's timestamp: produced 5 s before the worker reads it.
    static let stamp: Int64 = now - 5_000
    static let horizon: Int64 = 730 * 86_400_000

    let parser = RequestParser(maxPayloadBytes: 16, maxHorizonMillis: horizon, allowedTopics: ["*"])

    static func record(
        _ headers: [(String, String?)],
        value: [UInt8]? = [1, 2, 3],
        key: [UInt8]? = Array("k".utf8),
        timestamp: Int64? = stamp
    ) -> InputRecord {
        record(headers.map { RecordHeader(key: $0.0, value: $0.1.map { Array($0.utf8) }) }, value: value, key: key, timestamp: timestamp)
    }

    static func record(_ headers: [RecordHeader], value: [UInt8]? = [1, 2, 3], key: [UInt8]? = Array("k".utf8), timestamp: Int64? = stamp)
        -> InputRecord
    {
        InputRecord(topic: "tock.requests", partition: 3, offset: 42, timestampMillis: timestamp, key: key, value: value, headers: headers)
    }

    func parse(_ record: InputRecord, parser: RequestParser? = nil) -> Result<ParsedRequest, RequestRejection> {
        (parser ?? self.parser).parse(record, nowMillis: Self.now)
    }

    /// The message of an accepted schedule, or a recorded issue.
    func scheduled(_ headers: [(String, String?)], parser: RequestParser? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        -> ScheduledMessage?
    {
        scheduled(Self.record(headers), parser: parser, sourceLocation: sourceLocation)
    }

    func scheduled(_ record: InputRecord, parser: RequestParser? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> ScheduledMessage? {
        switch parse(record, parser: parser) {
        case .success(.schedule(let message)): return message
        case let other:
            Issue.record("expected a schedule, got \(other)", sourceLocation: sourceLocation)
            return nil
        }
    }

    func rejection(_ headers: [(String, String?)], value: [UInt8] = [1, 2, 3], parser: RequestParser? = nil) -> RequestRejection? {
        rejection(Self.record(headers, value: value), parser: parser)
    }

    func rejection(_ record: InputRecord, parser: RequestParser? = nil) -> RequestRejection? {
        if case .failure(let rejection) = parse(record, parser: parser) { return rejection }
        return nil
    }

    static let base: [(String, String?)] = [("tock-topic", "orders"), ("tock-delay", "1s")]

    // MARK: tock-at

    @Test("tock-at in integer epoch milliseconds is the due time")
    func atMillis() {
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", "1795262460123")])?.dueMillis == 1_795_262_460_123)
    }

    @Test(
        "tock-at in RFC 3339 with Z, z, +01:00 and -05:30",
        arguments: [
            "2026-11-21T12:01:00Z", "2026-11-21t12:01:00z", "2026-11-21T13:01:00+01:00", "2026-11-21T06:31:00-05:30",
        ])
    func atRFC3339(text: String) {
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", text)])?.dueMillis == Self.now + 60_000)
    }

    @Test(
        "tock-at fractions of 1, 3, 6 and 9 digits, sub-millisecond rounding up",
        arguments: [
            ("2026-11-21T12:01:00.5Z", 500), ("2026-11-21T12:01:00.250Z", 250), ("2026-11-21T12:01:00.250000Z", 250),
            ("2026-11-21T12:01:00.250001Z", 251), ("2026-11-21T12:01:00.000000001Z", 1), ("2026-11-21T12:01:00.999999999Z", 1_000),
        ] as [(String, Int64)])
    func atFractions(text: String, extra: Int64) {
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", text)])?.dueMillis == Self.now + 60_000 + extra)
    }

    @Test("tock-at in the past is accepted and keeps its due time (it fires at once)")
    func atInThePast() {
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", "0")])?.dueMillis == 0)
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", "2020-01-01T00:00:00Z")])?.dueMillis == 1_577_836_800_000)
    }

    @Test("leap years: 2024-02-29 is accepted, 2025-02-29 is bad-time")
    func leapYears() {
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", "2024-02-29T00:00:00Z")])?.dueMillis == 1_709_164_800_000)
        let rejected = rejection([("tock-topic", "orders"), ("tock-at", "2025-02-29T00:00:00Z")])
        #expect(rejected?.code == .badTime)
        #expect(rejected?.detail.contains("2025-02-29") == true)
    }

    @Test(
        "bad tock-at values are bad-time",
        arguments: [
            "", "soon", "-1", "1969-12-31T23:59:59Z", "2026-11-21T12:00:00", "2026-11-21 12:00:00Z", "2026-13-01T00:00:00Z",
            "99999999999999999999", "1.5", "30s",
        ])
    func badAt(text: String) {
        let rejected = rejection([("tock-topic", "orders"), ("tock-at", text)])
        #expect(rejected?.code == .badTime)
        #expect(rejected?.detail.contains("tock-at") == true)
    }

    // MARK: tock-delay

    @Test(
        "every tock-delay form counts from the record timestamp, not from now",
        arguments: [
            ("0", 0), ("250", 250), ("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("7d", 604_800_000),
        ] as [(String, Int64)])
    func delayForms(text: String, millis: Int64) {
        #expect(scheduled([("tock-topic", "orders"), ("tock-delay", text)])?.dueMillis == Self.stamp + millis)
    }

    @Test("a record without a timestamp (nil, or Kafka's -1) counts tock-delay from now", arguments: [nil, -1] as [Int64?])
    func delayWithoutTimestamp(timestamp: Int64?) {
        let record = Self.record([("tock-topic", "orders"), ("tock-delay", "30s")], timestamp: timestamp)
        #expect(scheduled(record)?.dueMillis == Self.now + 30_000)
    }

    @Test("bad tock-delay values are bad-time", arguments: ["", "soon", "-5s", "1.5s", "5w", "5 s", "ms"])
    func badDelay(text: String) {
        let rejected = rejection([("tock-topic", "orders"), ("tock-delay", text)])
        #expect(rejected?.code == .badTime)
        #expect(rejected?.detail.contains("tock-delay") == true)
    }

    @Test("a tock-delay that overflows when added to the timestamp is bad-time")
    func delayOverflow() {
        #expect(rejection([("tock-topic", "orders"), ("tock-delay", "9223372036854775807")])?.code == .badTime)
        #expect(rejection([("tock-topic", "orders"), ("tock-delay", "106751991167d")])?.code == .badTime)
    }

    // MARK: time presence and horizon

    @Test("neither tock-at nor tock-delay is missing-time")
    func missingTime() {
        #expect(rejection([("tock-topic", "orders")])?.code == .missingTime)
    }

    @Test("both tock-at and tock-delay is both-times, even when one of them is null or bad")
    func bothTimes() {
        #expect(rejection([("tock-topic", "orders"), ("tock-at", "0"), ("tock-delay", "1s")])?.code == .bothTimes)
        #expect(rejection([("tock-topic", "orders"), ("tock-at", nil), ("tock-delay", "1s")])?.code == .bothTimes)
        #expect(rejection([("tock-topic", "orders"), ("tock-at", "x"), ("tock-delay", "y")])?.code == .bothTimes)
    }

    @Test("a null tock-at or tock-delay is bad-time")
    func nullTime() {
        #expect(rejection([("tock-topic", "orders"), ("tock-at", nil)])?.code == .badTime)
        #expect(rejection([("tock-topic", "orders"), ("tock-delay", nil)])?.code == .badTime)
    }

    @Test("horizon boundary: exactly now + maxHorizon is accepted, one millisecond more is rejected")
    func horizonBoundary() {
        let limit = Self.now + Self.horizon
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", "\(limit)")])?.dueMillis == limit)
        let rejected = rejection([("tock-topic", "orders"), ("tock-at", "\(limit + 1)")])
        #expect(rejected?.code == .horizon)
        #expect(rejected?.detail.contains("730d") == true)
        // A delay is measured against now as well, after being added to the older timestamp.
        let delay = limit - Self.stamp
        #expect(scheduled([("tock-topic", "orders"), ("tock-delay", "\(delay)")])?.dueMillis == limit)
        #expect(rejection([("tock-topic", "orders"), ("tock-delay", "\(delay + 1)")])?.code == .horizon)
    }

    // MARK: tock-id

    @Test("without tock-id a schedule gets topic/partition/offset of the request")
    func defaultId() {
        let message = scheduled(Self.base)
        #expect(message?.id == "tock.requests/3/42")
        #expect(message?.idWasGiven == false)
        #expect(Self.record(Self.base).source == "tock.requests/3/42")
    }

    @Test(
        "a given tock-id is used, up to 256 bytes of printable ASCII",
        arguments: [
            "order-17", "!", "~x/y:z", String(repeating: "a", count: 256),
        ])
    func givenId(id: String) {
        let message = scheduled(Self.base + [("tock-id", id)])
        #expect(message?.id == id)
        #expect(message?.idWasGiven == true)
    }

    @Test("a tock-id of 257 bytes is bad-id")
    func idTooLong() {
        let rejected = rejection(Self.base + [("tock-id", String(repeating: "a", count: 257))])
        #expect(rejected?.code == .badId)
        #expect(rejected?.detail.contains("257 bytes") == true)
    }

    @Test(
        "a tock-id that is empty, null, or has a space, control, DEL or non-ASCII byte is bad-id",
        arguments: [
            [], nil, Array("a b".utf8), [0x61, 0x09], [0x61, 0x00], [0x7F], Array("café".utf8), [0xFF],
        ] as [[UInt8]?])
    func badIdBytes(id: [UInt8]?) {
        let headers = Self.base.map { RecordHeader(key: $0.0, value: $0.1.map { Array($0.utf8) }) } + [RecordHeader(key: "tock-id", value: id)]
        let rejected = rejection(Self.record(headers))
        #expect(rejected?.code == .badId)
        #expect(rejected?.detail.contains("tock-id") == true)
    }

    @Test(
        "a tock-id with \"@\" is bad-id for every action (SPEC v3: \"@\" is reserved for occurrence ids), series requests too",
        arguments: ["schedule", "reschedule", "cancel"])
    func idWithAt(action: String) {
        for id in ["X@1795262400000", "@", "a@b", "series@"] {
            let series: [(String, String?)] = action == "cancel" ? [] : [("tock-every", "1m")]
            for extra in [[], series] {
                let rejected = rejection(Self.base + [("tock-action", action), ("tock-id", id)] + extra)
                #expect(rejected?.code == .badId, "\(action) \(id) \(extra)")
                let at = id.firstIndex(of: "@").map { id.distance(from: id.startIndex, to: $0) } ?? -1
                #expect(
                    rejected?.detail
                        == "tock-id \"\(id)\" has \"@\" at position \(at): \"@\" is reserved for the ids of a series' occurrences (<series id>@<due ms>); it must be 1 to 256 bytes of printable ASCII without spaces or \"@\".",
                    "\(rejected?.detail ?? "accepted")")
            }
        }
        // The default id (topic/partition/offset) never has one: a topic name cannot.
        #expect(scheduled(Self.base)?.id.contains("@") == false)
    }
    // MARK: tock-action

    @Test("tock-action absent or schedule is a schedule")
    func actionSchedule() {
        #expect(scheduled(Self.base) != nil)
        #expect(scheduled(Self.base + [("tock-action", "schedule")]) != nil)
    }

    @Test("tock-action reschedule carries the whole new message")
    func actionReschedule() throws {
        let result = parse(Self.record(Self.base + [("tock-action", "reschedule"), ("tock-id", "order-17"), ("x", "1")]))
        guard case .success(.reschedule(let message)) = result else {
            Issue.record("got \(result)")
            return
        }
        #expect(
            message
                == ScheduledMessage(
                    id: "order-17", idWasGiven: true, dueMillis: Self.stamp + 1_000, topic: "orders",
                    key: Array("k".utf8), value: [1, 2, 3], headers: [RecordHeader(key: "x", text: "1")]
                ))
        #expect(try result.get().id == "order-17")
    }

    @Test("tock-action cancel needs only tock-id: no topic, no time, and other tock- headers are ignored")
    func actionCancel() throws {
        #expect(try parse(Self.record([("tock-action", "cancel"), ("tock-id", "order-17")])).get() == .cancel(id: "order-17"))
        let noisy = Self.record(
            [("tock-action", "cancel"), ("tock-id", "order-17"), ("tock-topic", "tock.bad"), ("tock-at", "x"), ("tock-delay", "y")],
            value: Array(repeating: 0, count: 100)
        )
        #expect(try parse(noisy).get() == .cancel(id: "order-17"))
    }

    @Test("cancel without tock-id is bad-id, saying it is missing")
    func cancelWithoutId() {
        let rejected = rejection([("tock-action", "cancel")])
        #expect(rejected?.code == .badId)
        #expect(rejected?.detail.contains("missing") == true)
        #expect(rejected?.detail.contains("cancel") == true)
    }

    @Test("reschedule without tock-id is bad-id")
    func rescheduleWithoutId() {
        #expect(rejection(Self.base + [("tock-action", "reschedule")])?.code == .badId)
    }

    @Test("reschedule without a time is missing-time; without a topic, missing-topic")
    func rescheduleNeedsTimeAndTopic() {
        #expect(rejection([("tock-action", "reschedule"), ("tock-id", "a"), ("tock-topic", "orders")])?.code == .missingTime)
        #expect(rejection([("tock-action", "reschedule"), ("tock-id", "a"), ("tock-delay", "1s")])?.code == .missingTopic)
    }

    @Test("any other tock-action is bad-action", arguments: ["delete", "Cancel", "SCHEDULE", "", " cancel", "cancel ", nil] as [String?])
    func badAction(action: String?) {
        let rejected = rejection(Self.base + [("tock-action", action)])
        #expect(rejected?.code == .badAction)
        #expect(rejected?.detail.contains("tock-action") == true)
    }

    // MARK: payload

    @Test("a payload exactly at the limit is accepted, one byte over is payload-too-large")
    func payloadLimit() {
        #expect(scheduled(Self.record(Self.base, value: Array(repeating: 7, count: 16)))?.value?.count == 16)
        #expect(scheduled(Self.record(Self.base, value: []))?.value == [])
        let rejected = rejection(Self.base, value: Array(repeating: 7, count: 17))
        #expect(rejected?.code == .payloadTooLarge)
        #expect(rejected?.detail.contains("17") == true)
        #expect(
            rejection(Self.base + [("tock-action", "reschedule"), ("tock-id", "a")], value: Array(repeating: 7, count: 17))?.code == .payloadTooLarge)
    }

    @Test("a null value stays null, apart from an empty one, for schedule and reschedule; it counts as 0 bytes")
    func nullPayload() {
        let tiny = RequestParser(maxPayloadBytes: 0, maxHorizonMillis: Self.horizon, allowedTopics: ["*"])
        #expect(scheduled(Self.record(Self.base, value: nil), parser: tiny)?.value == nil)
        #expect(scheduled(Self.record(Self.base, value: []), parser: tiny)?.value == [])
        let reschedule = parse(Self.record(Self.base + [("tock-action", "reschedule"), ("tock-id", "a")], value: nil))
        guard case .success(.reschedule(let message)) = reschedule else {
            Issue.record("expected a reschedule, got \(reschedule)")
            return
        }
        #expect(message.value == nil)
    }

    @Test("the payload is delivered byte for byte")
    func binaryPayload() {
        let bytes: [UInt8] = [0, 0xFF, 0xC3, 0x28, 10, 0]
        #expect(scheduled(Self.record(Self.base, value: bytes))?.value == bytes)
    }

    // MARK: tock-topic

    @Test("tock-topic absent, empty or null is missing-topic", arguments: [nil, "", "null"] as [String?])
    func missingTopic(form: String?) {
        var headers: [(String, String?)] = [("tock-delay", "1s")]
        if form == "" { headers.append(("tock-topic", "")) }
        if form == "null" { headers.append(("tock-topic", nil)) }
        let rejected = rejection(headers)
        #expect(rejected?.code == .missingTopic)
        #expect(rejected?.detail.contains("tock-topic") == true)
    }

    @Test(
        "allowed-topic globs: orders.*, ? and literal names",
        arguments: [
            ("orders.eu", true), ("orders.", true), ("orders", false), ("audit-1", true), ("audit-12", false),
            ("billing", true), ("billing2", false), ("x.orders.eu", false),
        ])
    func allowedTopicGlobs(topic: String, allowed: Bool) {
        let parser = RequestParser(maxPayloadBytes: 16, maxHorizonMillis: Self.horizon, allowedTopics: ["orders.*", "audit-?", "billing"])
        let headers: [(String, String?)] = [("tock-topic", topic), ("tock-delay", "1s")]
        if allowed {
            #expect(scheduled(headers, parser: parser)?.topic == topic)
        } else {
            let rejected = rejection(headers, parser: parser)
            #expect(rejected?.code == .topicNotAllowed)
            #expect(rejected?.detail.contains("\"orders.*\"") == true)
        }
    }

    @Test(
        "* allows every valid topic name that is not a tock. or __ topic",
        arguments: ["a", "orders", "tock", "tockets", "tock-x", "Tock.x", "_x", "a__b"])
    func starAllowsAll(topic: String) {
        #expect(scheduled([("tock-topic", topic), ("tock-delay", "1s")])?.topic == topic)
    }

    @Test("topics starting with tock. are rejected even under * or tock.*", arguments: ["tock.requests", "tock.dead", "tock.x"])
    func tockTopicsRejected(topic: String) {
        for patterns in [["*"], ["tock.*"], [topic]] {
            let parser = RequestParser(maxPayloadBytes: 16, maxHorizonMillis: Self.horizon, allowedTopics: patterns)
            let rejected = rejection([("tock-topic", topic), ("tock-delay", "1s")], parser: parser)
            #expect(rejected?.code == .topicNotAllowed)
            #expect(rejected?.detail.contains("tock.") == true)
        }
    }

    @Test(
        "topics starting with __ (Kafka's internal ones) are rejected even under *, __* or their own name",
        arguments: [
            "__consumer_offsets", "__transaction_state", "__x",
        ])
    func internalTopicsRejected(topic: String) {
        for patterns in [["*"], ["__*"], [topic]] {
            let parser = RequestParser(maxPayloadBytes: 16, maxHorizonMillis: Self.horizon, allowedTopics: patterns)
            for action in ["schedule", "reschedule"] {
                let rejected = rejection([("tock-topic", topic), ("tock-delay", "1s"), ("tock-id", "a"), ("tock-action", action)], parser: parser)
                #expect(rejected?.code == .topicNotAllowed)
                #expect(rejected?.detail.contains("\"__\"") == true)
            }
        }
    }

    @Test(
        "invalid Kafka topic names are topic-not-allowed",
        arguments: [
            [UInt8](".".utf8), Array("..".utf8), Array("a b".utf8), Array("orders/eu".utf8), Array("ordérs".utf8),
            Array(repeating: UInt8(ascii: "x"), count: 250), [0x6F, 0xFF],
        ])
    func invalidTopicNames(topic: [UInt8]) {
        let rejected = rejection(Self.record([RecordHeader(key: "tock-topic", value: topic), RecordHeader(key: "tock-delay", text: "1s")]))
        #expect(rejected?.code == .topicNotAllowed)
        #expect(rejected?.detail.contains("not a valid Kafka topic name") == true)
    }

    @Test("an empty allowedTopics list allows nothing")
    func emptyAllowList() {
        let parser = RequestParser(maxPayloadBytes: 16, maxHorizonMillis: Self.horizon, allowedTopics: [])
        #expect(rejection(Self.base, parser: parser)?.code == .topicNotAllowed)
    }

    // MARK: headers and key

    @Test("non-tock- headers are copied in order with duplicates and null values; tock- headers are stripped")
    func copiedHeaders() {
        let headers = [
            RecordHeader(key: "trace", text: "1"), RecordHeader(key: "tock-topic", text: "orders"),
            RecordHeader(key: "dup", text: "a"), RecordHeader(key: "nil", value: nil),
            RecordHeader(key: "tock-delay", text: "1s"), RecordHeader(key: "dup", text: "b"),
            RecordHeader(key: "tock-unknown", text: "?"), RecordHeader(key: "Tock-Topic", text: "kept"),
            RecordHeader(key: "tock", text: "kept"), RecordHeader(key: "tockx", text: "kept"),
            RecordHeader(key: "empty", value: []), RecordHeader(key: "tock-error", text: "x"),
        ]
        #expect(
            scheduled(Self.record(headers))?.headers == [
                RecordHeader(key: "trace", text: "1"), RecordHeader(key: "dup", text: "a"), RecordHeader(key: "nil", value: nil),
                RecordHeader(key: "dup", text: "b"), RecordHeader(key: "Tock-Topic", text: "kept"),
                RecordHeader(key: "tock", text: "kept"), RecordHeader(key: "tockx", text: "kept"), RecordHeader(key: "empty", value: []),
            ])
    }

    @Test("tock-key overrides the request key; otherwise the request key, null included, is kept")
    func outputKey() {
        #expect(scheduled(Self.base + [("tock-key", "override")])?.key == Array("override".utf8))
        #expect(scheduled(Self.base + [("tock-key", "")])?.key == [])
        #expect(scheduled(Self.base)?.key == Array("k".utf8))
        #expect(scheduled(Self.record(Self.base, key: nil))?.key == nil)
    }

    @Test("a null tock-key gives a null output key; a non-UTF-8 tock-key is taken as raw bytes")
    func nullAndBinaryKey() {
        #expect(scheduled(Self.base + [("tock-key", nil)])?.key == nil)
        let binary = Self.record(
            Self.base.map { RecordHeader(key: $0.0, value: $0.1.map { Array($0.utf8) }) } + [RecordHeader(key: "tock-key", value: [0xFF, 0])])
        #expect(scheduled(binary)?.key == [0xFF, 0])
    }

    @Test("a repeated tock- header: the last one wins")
    func lastWins() {
        #expect(scheduled([("tock-topic", "first"), ("tock-topic", "last"), ("tock-delay", "1s")])?.topic == "last")
        #expect(scheduled([("tock-topic", "orders"), ("tock-at", "bad"), ("tock-at", "1795262400000")])?.dueMillis == Self.now)
        #expect(rejection([("tock-topic", "orders"), ("tock-at", "1795262400000"), ("tock-at", "bad")])?.code == .badTime)
        #expect(scheduled(Self.base + [("tock-action", "cancel"), ("tock-action", "schedule")]) != nil)
        #expect(scheduled(Self.base + [("tock-id", "a"), ("tock-id", "b")])?.id == "b")
        #expect(scheduled(Self.base + [("tock-key", "a"), ("tock-key", "b")])?.key == Array("b".utf8))
    }

    @Test("invalid UTF-8 in a tock- header is a bad value of that header")
    func invalidUTF8() {
        func reject(_ name: String, _ extra: [(String, String?)] = []) -> RequestRejection? {
            let headers =
                extra.map { RecordHeader(key: $0.0, value: $0.1.map { Array($0.utf8) }) } + [RecordHeader(key: name, value: [0x31, 0xC3, 0x28])]
            return rejection(Self.record(headers))
        }
        #expect(reject("tock-action", Self.base)?.code == .badAction)
        #expect(reject("tock-id", Self.base)?.code == .badId)
        #expect(reject("tock-topic", [("tock-delay", "1s")])?.code == .topicNotAllowed)
        #expect(reject("tock-at", [("tock-topic", "orders")])?.code == .badTime)
        let delay = reject("tock-delay", [("tock-topic", "orders")])
        #expect(delay?.code == .badTime)
        #expect(delay?.detail.contains("not valid UTF-8") == true)
    }

    // MARK: check order

    @Test("each check masks the later ones, in the documented order")
    func checkOrder() {
        var value = Array(repeating: UInt8(0), count: 17)
        var headers: [(String, String?)] = [("tock-action", "delete"), ("tock-id", "a b")]
        func code() -> RejectionCode? { rejection(headers, value: value)?.code }

        #expect(code() == .badAction)
        headers[0] = ("tock-action", "schedule")
        #expect(code() == .payloadTooLarge)
        value = [1]
        #expect(code() == .badId)
        headers[1] = ("tock-id", "a")
        #expect(code() == .missingTopic)
        headers.append(("tock-topic", "tock.requests"))
        #expect(code() == .topicNotAllowed)
        headers[2] = ("tock-topic", "orders")
        #expect(code() == .missingTime)
        headers += [("tock-at", "\(Self.now + Self.horizon + 1)"), ("tock-delay", "x")]
        #expect(code() == .bothTimes)
        headers.removeLast()
        headers.append(("tock-at", "2025-02-29T00:00:00Z"))
        #expect(code() == .badTime)
        headers.removeLast()
        #expect(code() == .horizon)
        headers.removeLast()
        headers.append(("tock-at", "\(Self.now)"))
        #expect(code() == nil)
    }

    @Test("bad-action beats payload-too-large, which beats bad-id, even for reschedule")
    func precedence() {
        let big = Array(repeating: UInt8(0), count: 17)
        #expect(rejection([("tock-action", "nope")], value: big)?.code == .badAction)
        #expect(rejection([("tock-action", "reschedule")], value: big)?.code == .payloadTooLarge)
        #expect(rejection([("tock-action", "cancel")], value: big)?.code == .badId)
    }

    // MARK: details and codes

    @Test("details name the header and quote its value, escaped and cut short")
    func details() {
        let rejected = rejection(Self.base + [("tock-action", "delete")])
        #expect(rejected?.detail == "tock-action \"delete\" is not schedule, cancel or reschedule.")
        let long = rejection([("tock-topic", "orders"), ("tock-at", String(repeating: "9", count: 5_000))])
        #expect(long?.code == .badTime)
        #expect((long?.detail.count ?? .max) < 300)
        #expect(long?.detail.contains("…") == true)
        let control = rejection(Self.base + [("tock-action", "a\n\"b\"")])
        #expect(control?.detail.contains("\"a\\u{A}\\\"b\\\"\"") == true)
        #expect(control?.description.hasPrefix("bad-action: ") == true)
    }

    @Test("the rejection codes are exactly those of SPEC.md")
    func codes() {
        #expect(
            RejectionCode.allCases.map(\.rawValue) == [
                "missing-topic", "missing-time", "both-times", "bad-time", "horizon", "payload-too-large",
                "topic-not-allowed", "bad-id", "bad-action", "bad-tags", "bad-cron", "bad-timezone", "bad-recurrence",
            ])
    }

    @Test("the configuration initializer takes the limits and allowed topics")
    func fromConfiguration() {
        var configuration = TockConfiguration()
        configuration.output.allowedTopics = ["orders"]
        let parser = RequestParser(configuration: configuration)
        #expect(parser.maxPayloadBytes == 1_048_576)
        #expect(parser.maxHorizonMillis == Self.horizon)
        #expect(parser.allowedTopics == ["orders"])
        #expect(rejection([("tock-topic", "billing"), ("tock-delay", "1s")], parser: parser)?.code == .topicNotAllowed)
    }
}
