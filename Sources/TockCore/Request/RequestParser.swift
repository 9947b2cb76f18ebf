/// Turns one record of an input topic into a `ParsedRequest`, or into the one reason it is
/// rejected. Pure and cheap: it runs for every request (tens of thousands a second), so it
/// works on the header bytes, with no Foundation, no regex, and no allocation beyond the
/// strings and header list of the result.
///
/// The contract is SPEC.md ("A scheduling request"); where the spec is silent:
/// - **Header names.** `tock-` headers are those whose name starts with exactly `tock-`
///   (lowercase; `Tock-Topic` is an ordinary header and is copied). Unknown `tock-` headers are
///   ignored and not copied; every other header is copied in order, duplicates and null
///   values included.
/// - **Repeated headers.** When a `tock-` header appears more than once, the last one wins,
///   as with a map built by reading the headers in order.
/// - **Values.** `tock-` values are UTF-8. A null value, or bytes that are not UTF-8, is a bad
///   value of that header: `bad-action`, `bad-id`, `missing-topic` (null `tock-topic`; an
///   empty one too), `topic-not-allowed` (a non-UTF-8 `tock-topic`, as it cannot be a topic
///   name), `bad-time` (`tock-at`, `tock-delay`). `tock-key` is taken as raw bytes, and a
///   null `tock-key` gives the output record a null key. A header counts as given for
///   `missing-time`/`both-times` whatever its value.
/// - **Payload.** A null record value stays null (it is published as null, not as an empty
///   value) and counts as 0 bytes against `maxPayloadBytes`.
/// - **Order of checks**, so each record gets one deterministic code: `bad-action`,
///   `payload-too-large`, `bad-id`, `bad-tags`, `missing-topic`, `topic-not-allowed`, `missing-time` /
///   `both-times`, `bad-time`, then a series' `bad-recurrence` / `bad-cron` / `bad-timezone`
///   (`RecurrenceText`), `horizon`.
/// - **Series.** Any of `tock-cron`, `tock-every`, `tock-tz`, `tock-until`, `tock-count`,
///   `tock-catchup` makes the request a series (`ScheduledMessage.series`). `tock-at`/`tock-delay`
///   are then optional (without them a series starts from the record's timestamp); no
///   occurrence due before the record's timestamp is published (a past `tock-at` sets the phase
///   of a `tock-every` series only, `RecurrenceText`), and the
///   horizon applies to its first occurrence, which is `dueMillis`.
/// - **`tock-action`** is exactly `schedule` (also the default when absent), `cancel`,
///   `reschedule` or `requeue` (an extension the operators' API writes: a dead letter scheduled
///   again under its id, which may be an occurrence's, even within `dedup.retention`; no series
///   headers), `pause` or `resume` (extensions the operators' API writes: a series' id only);
///   any other value, case or spacing is `bad-action`.
/// - **`cancel`** needs only `tock-id`; the payload limit and every other `tock-` header are
///   ignored for it. `reschedule` needs `tock-id`, `tock-topic` and a due time, like a
///   schedule.
/// - **`tock-id`** is 1 to 256 bytes in 0x21...0x7E other than `@`, for every action: `@` is
///   reserved for occurrence ids (`<series id>@<due ms>`), so a message can never take an
///   occurrence's id, nor can a cancel or reschedule name one occurrence of a series. The default (`topic/partition/offset`,
///   `idWasGiven == false`) applies to `schedule` only and is not held to the 256-byte limit.
/// - **`tock-topic`** is rejected with `topic-not-allowed` when it starts with `tock.` or `__`
///   (`ReservedTopics`, even under `*`), is not a valid Kafka topic name, or matches none of the
///   `allowedTopics` globs (an empty list allows nothing).
/// - **`tock-at`**: see `DueTimeText` (epoch milliseconds or RFC 3339 with an offset; a
///   sub-millisecond fraction rounds up; negative epoch times are `bad-time`). Surrounding
///   whitespace is ignored in `tock-at`, as `DurationText` ignores it in `tock-delay`.
/// - **`tock-delay`**: see `DurationText`; counted from the record's timestamp, or from
///   `nowMillis` when the record has none (nil or negative, which Kafka uses for "none").
///   A sum beyond Int64 is `bad-time`.
/// - **Horizon.** A due time in the past is accepted (it fires at once); one later than
///   `nowMillis + maxHorizonMillis` is `horizon`, exactly at the limit is accepted.
public struct RequestParser: Sendable {
    public let maxPayloadBytes: Int
    public let maxHorizonMillis: Int64
    public let allowedTopics: [String]
    private let globs: [TopicGlob]

    public init(maxPayloadBytes: Int, maxHorizonMillis: Int64, allowedTopics: [String]) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxHorizonMillis = maxHorizonMillis
        self.allowedTopics = allowedTopics
        globs = allowedTopics.map(TopicGlob.init)
    }

    public init(configuration: TockConfiguration) {
        self.init(
            maxPayloadBytes: configuration.limits.maxPayloadBytes,
            maxHorizonMillis: configuration.limits.maxHorizonMillis,
            allowedTopics: configuration.output.allowedTopics
        )
    }

    public func parse(_ record: InputRecord, nowMillis: Int64) -> Result<ParsedRequest, RequestRejection> {
        do throws(RequestRejection) {
            return .success(try parseOrThrow(record, nowMillis: nowMillis))
        } catch {
            return .failure(error)
        }
    }

    private enum Action: String {
        case schedule, cancel, reschedule, requeue, pause, resume
    }

    private typealias Value = RequestHeaders.Value

    private func parseOrThrow(_ record: InputRecord, nowMillis: Int64) throws(RequestRejection) -> ParsedRequest {
        let headers = RequestHeaders(record.headers)
        let action = try Self.action(headers[.action])
        let payloadBytes = record.value?.count ?? 0
        if action != .cancel && action != .pause && action != .resume && payloadBytes > maxPayloadBytes {
            throw reject(.payloadTooLarge, "The payload is \(payloadBytes) bytes, more than limits.maxPayloadBytes (\(maxPayloadBytes)).")
        }
        let (id, idWasGiven) = try Self.id(headers[.id], action: action, record: record)
        if action == .cancel { return .cancel(id: id) }
        if action == .pause { return .pause(id: id) }
        if action == .resume { return .resume(id: id) }
        let tags = try Self.tags(headers[.tags])

        let outputTopic = try outputTopic(headers[.topic], action: action)
        let isSeries = headers.isSeries
        if isSeries && action == .requeue {
            throw reject(.badRecurrence, "A requeue schedules one message again; it takes no series headers.")
        }
        let given = try dueTime(at: headers[.at], delay: headers[.delay], action: action, required: !isSeries, record: record, nowMillis: nowMillis)
        var series: SeriesDefinition?
        var dueMillis: Int64
        var source: String
        if isSeries {
            let requestTime = record.timestampMillis.flatMap { $0 >= 0 ? $0 : nil } ?? nowMillis
            let parsed = try RecurrenceText.parse(
                cron: try Self.text(headers, .cron, code: .badCron), every: try Self.text(headers, .every),
                tz: try Self.text(headers, .tz, code: .badTimezone), until: try Self.text(headers, .until),
                count: try Self.text(headers, .count), catchup: try Self.text(headers, .catchup),
                startMillis: given?.due ?? requestTime, startIsRequestTime: given == nil, notBeforeMillis: requestTime
            )
            // Not nil: some series header is given.
            guard let parsed else { throw reject(.badRecurrence, "the series has no occurrence left") }
            series = parsed.definition
            dueMillis = parsed.firstMillis
            source = "the series' first occurrence"
        } else {
            (dueMillis, source) = given!
        }
        let (limit, overflow) = nowMillis.addingReportingOverflow(maxHorizonMillis)
        if !overflow && dueMillis > limit {
            throw reject(
                .horizon,
                "The due time \(dueMillis) from \(source) is more than limits.maxHorizon (\(DurationText.format(millis: maxHorizonMillis))) after now (\(nowMillis))."
            )
        }

        var copied: [RecordHeader] = []
        copied.reserveCapacity(headers.copiedCount)
        for header in record.headers where !RequestHeaders.isTock(header.key) { copied.append(header) }
        let key: [UInt8]? =
            switch headers[.key] {
            case .absent: record.key
            case .null: nil
            case .bytes(let bytes): bytes
            }
        var message = ScheduledMessage(
            id: id, idWasGiven: idWasGiven, dueMillis: dueMillis, topic: outputTopic,
            key: key, value: record.value, headers: copied, series: series
        )
        message.tags = tags
        switch action {
        case .reschedule: return .reschedule(message)
        case .requeue: return .requeue(message)
        default: return .schedule(message)
        }
    }

    private static func action(_ header: Value) throws(RequestRejection) -> Action {
        switch header {
        case .absent:
            return .schedule
        case .null:
            throw reject(.badAction, "tock-action has a null value; it must be schedule, cancel or reschedule.")
        case .bytes(let bytes):
            if bytes.elementsEqual("schedule".utf8) { return .schedule }
            if bytes.elementsEqual("cancel".utf8) { return .cancel }
            if bytes.elementsEqual("reschedule".utf8) { return .reschedule }
            if bytes.elementsEqual("requeue".utf8) { return .requeue }
            if bytes.elementsEqual("pause".utf8) { return .pause }
            if bytes.elementsEqual("resume".utf8) { return .resume }
            throw reject(.badAction, "tock-action \(quoted(bytes)) is not schedule, cancel or reschedule.")
        }
    }

    private static func tags(_ header: Value) throws(RequestRejection) -> [String] {
        switch header {
        case .absent: return []
        case .null: throw reject(.badTags, "tock-tags has a null value; it must be 1 to \(TagList.maxTags) comma-separated tags.")
        case .bytes(let bytes):
            switch TagList.parse(utf8: bytes) {
            case .success(let tags): return tags
            case .failure(let rejection): throw rejection
            }
        }
    }

    private static let idRule = "1 to 256 bytes of printable ASCII without spaces or \"@\""

    private static func id(_ header: Value, action: Action, record: InputRecord) throws(RequestRejection) -> (String, Bool) {
        switch header {
        case .absent:
            guard action == .schedule else {
                throw reject(.badId, "tock-id is missing; a \(action.rawValue) needs it to name the message.")
            }
            return (record.source, false)
        case .null:
            throw reject(.badId, "tock-id has a null value; it must be \(idRule).")
        case .bytes(let bytes):
            guard !bytes.isEmpty else { throw reject(.badId, "tock-id is empty; it must be \(idRule).") }
            guard bytes.count <= 256 else {
                throw reject(.badId, "tock-id \(quoted(bytes)) is \(bytes.count) bytes long; it must be \(idRule).")
            }
            if let bad = bytes.firstIndex(where: { !(0x21...0x7E).contains($0) }) {
                throw reject(.badId, "tock-id \(quoted(bytes)) has byte 0x\(hex(bytes[bad])) at position \(bad); it must be \(idRule).")
            }
            if action != .requeue, let at = bytes.firstIndex(of: UInt8(ascii: "@")) {
                throw reject(
                    .badId,
                    "tock-id \(quoted(bytes)) has \"@\" at position \(at): \"@\" is reserved for the ids of a series' occurrences (<series id>@<due ms>); it must be \(idRule)."
                )
            }
            return (String(decoding: bytes, as: UTF8.self), true)
        }
    }

    private func outputTopic(_ header: Value, action: Action) throws(RequestRejection) -> String {
        let bytes: [UInt8]
        switch header {
        case .absent:
            throw reject(.missingTopic, "tock-topic is missing; a \(action.rawValue) needs it to name the output topic.")
        case .null:
            throw reject(.missingTopic, "tock-topic has a null value; a \(action.rawValue) needs it to name the output topic.")
        case .bytes(let value):
            guard !value.isEmpty else {
                throw reject(.missingTopic, "tock-topic is empty; a \(action.rawValue) needs it to name the output topic.")
            }
            bytes = value
        }
        if let reserved = ReservedTopics.prefix(of: bytes) {
            throw reject(.topicNotAllowed, "tock-topic \(Self.quoted(bytes)) is reserved: \(reserved.reason).")
        }
        let allowed = bytes.withUnsafeBufferPointer { topic -> Bool? in
            guard TopicGlob.isValidKafkaTopicName(utf8: topic) else { return nil }
            return globs.contains { $0.matches(utf8: topic) }
        }
        guard let allowed else {
            throw reject(
                .topicNotAllowed,
                "tock-topic \(Self.quoted(bytes)) is not a valid Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -, not \".\" or \"..\").")
        }
        guard allowed else {
            throw reject(.topicNotAllowed, "tock-topic \(Self.quoted(bytes)) matches none of output.allowedTopics \(patternList).")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private var patternList: String {
        let shown = allowedTopics.prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
        return allowedTopics.count > 8 ? "[\(shown), … \(allowedTopics.count - 8) more]" : "[\(shown)]"
    }

    /// The due time `tock-at` or `tock-delay` gives, and which header gave it; nil when neither
    /// is given and none is `required` (a series).
    private func dueTime(at: Value, delay: Value, action: Action, required: Bool, record: InputRecord, nowMillis: Int64)
        throws(RequestRejection) -> (due: Int64, source: String)?
    {
        let due: Int64
        let source: String
        switch (at.isGiven, delay.isGiven) {
        case (false, false):
            guard required else { return nil }
            throw reject(.missingTime, "Neither tock-at nor tock-delay is given; a \(action.rawValue) needs exactly one.")
        case (true, true):
            throw reject(.bothTimes, "Both tock-at and tock-delay are given; a \(action.rawValue) needs exactly one.")
        case (true, false):
            guard case .bytes(let bytes) = at else {
                throw reject(.badTime, "tock-at has a null value; it must be epoch milliseconds or RFC 3339 with an offset.")
            }
            do {
                due = try DueTimeText.parseMillis(utf8: bytes)
            } catch {
                throw reject(.badTime, "tock-at \(Self.quoted(bytes)) is not a valid due time: \(error).")
            }
            source = "tock-at \(Self.quoted(bytes))"
        case (false, true):
            guard case .bytes(let bytes) = delay else {
                throw reject(.badTime, "tock-delay has a null value; it must be milliseconds or a duration such as 30s.")
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw reject(.badTime, "tock-delay \(Self.quoted(bytes)) is not valid UTF-8.")
            }
            let delayMillis: Int64
            do {
                delayMillis = try DurationText.parseMillis(text)
            } catch {
                throw reject(.badTime, "tock-delay \(Self.quoted(bytes)) is not a valid delay: \(Self.reason(error)).")
            }
            // Kafka marks "no timestamp" with -1; such a record is counted from now.
            let stamp = record.timestampMillis.flatMap { $0 >= 0 ? $0 : nil }
            let base = stamp ?? nowMillis
            let (sum, overflow) = base.addingReportingOverflow(delayMillis)
            if overflow {
                let start = stamp == nil ? "now" : "the record timestamp"
                throw reject(.badTime, "tock-delay \(Self.quoted(bytes)) overflows when added to \(start) (\(base)).")
            }
            due = sum
            source = "tock-delay \(Self.quoted(bytes))"
        }
        return (due, source)
    }

    /// A series header's value as text; a null or non-UTF-8 value is refused with `code`.
    private static func text(_ headers: RequestHeaders, _ header: RequestHeaders.Name, code: RejectionCode = .badRecurrence) throws(RequestRejection)
        -> String?
    {
        let name = header.rawValue
        switch headers[header] {
        case .absent: return nil
        case .null: throw reject(code, "\(name) has a null value.")
        case .bytes(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self) else { throw reject(code, "\(name) \(quoted(bytes)) is not valid UTF-8.") }
            return text
        }
    }

    private static func reason(_ error: DurationText.ParseError) -> String {
        switch error {
        case .empty: "it is empty"
        case .invalid: "it is neither integer milliseconds nor a number with a unit ms, s, m, h or d"
        case .negative: "it is negative"
        case .overflow: "it is too large"
        }
    }

    // MARK: Details (rejections are rare, so these may allocate freely)

    private static let quotedLimit = 80

    /// A header value for a detail sentence: quoted, control characters escaped (the detail
    /// travels in a header and ends up in logs), cut after `quotedLimit` characters, and marked
    /// when the bytes are not UTF-8.
    static func quoted(_ bytes: [UInt8]) -> String {
        var out = "\""
        var count = 0
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if count == quotedLimit {
                out += "…"
                break
            }
            count += 1
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0..<0x20, 0x7F..<0xA0: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        if String(validating: bytes, as: UTF8.self) == nil { out += " (not valid UTF-8)" }
        return out
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0" + digits : digits
    }
}

private func reject(_ code: RejectionCode, _ detail: String) -> RequestRejection {
    RequestRejection(code: code, detail: detail)
}
