import Foundation
import TockCore

/// The request record an API write puts on the first input topic: the same headers a Kafka
/// producer would write, so one path (the worker's `RequestParser`) serves every client.
public struct APIRequestRecord: Sendable, Equatable {
    /// `schedule`, `reschedule`, `cancel`; `requeue` (an extension: a schedule that a dead
    /// letter's id may take again within `dedup.retention`).
    public enum Action: String, Sendable {
        case schedule, reschedule, cancel, requeue
        /// Extensions for a series (`POST /v1/series/<id>/pause`, `/resume`).
        case pause, resume
    }

    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]

    public static func cancel(id: String) -> APIRequestRecord { action(.cancel, id: id) }

    /// A dead letter scheduled again to its topic under its id, at `at` (`tock-action: requeue`):
    /// its value (null stays null), key and copied headers.
    public static func requeue(_ letter: DeadLetter, at: String) -> APIRequestRecord {
        let tock = [
            RecordHeader(key: "tock-action", text: Action.requeue.rawValue), RecordHeader(key: "tock-id", text: letter.id),
            RecordHeader(key: "tock-topic", text: letter.topic), RecordHeader(key: "tock-at", text: at),
        ]
        return APIRequestRecord(key: letter.key, value: letter.value, headers: letter.copiedHeaders + tock)
    }

    /// A request that names an id only: cancel, pause, resume.
    public static func action(_ action: Action, id: String) -> APIRequestRecord {
        APIRequestRecord(
            key: nil, value: nil, headers: [RecordHeader(key: "tock-action", text: action.rawValue), RecordHeader(key: "tock-id", text: id)])
    }

    /// The record for `body`; `id` (from the path) wins over the body's. Copied headers come first,
    /// in name order (a JSON object has none), then Tock's.
    public static func make(_ body: APIMessageBody, action: Action, id pathID: String? = nil) throws(APIBodyError) -> APIRequestRecord {
        var headers: [RecordHeader] = []
        for (name, text) in (body.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !name.hasPrefix("tock-") else {
                throw APIBodyError("headers.\(name): tock- headers are Tock's own; use the body's fields (topic, at, delay, id, tags, …)")
            }
            headers.append(RecordHeader(key: name, text: text))
        }
        if action != .schedule { headers.append(RecordHeader(key: "tock-action", text: action.rawValue)) }
        if let pathID, let bodyID = body.id, bodyID != pathID {
            throw APIBodyError("the body's id \"\(bodyID.prefix(80))\" differs from the path's; leave it out")
        }
        let given: [(String, String?)] = [
            ("tock-id", pathID ?? body.id), ("tock-topic", body.topic), ("tock-at", body.at), ("tock-delay", body.delay),
            ("tock-cron", body.cron), ("tock-every", body.every), ("tock-tz", body.tz), ("tock-until", body.until),
            ("tock-count", body.count), ("tock-catchup", body.catchup),
        ]
        for (name, text) in given { if let text { headers.append(RecordHeader(key: name, text: text)) } }
        if let tags = body.tags {
            switch TagList.header(for: tags) {
            case .success(let value): headers.append(RecordHeader(key: "tock-tags", text: value))
            case .failure(let rejection): throw APIBodyError(rejection.detail, code: rejection.code.rawValue)
            }
        }
        let value: [UInt8]?
        switch (body.value, body.valueBase64) {
        case (.some, .some): throw APIBodyError("give at most one of value and valueBase64")
        case (.some(let text), nil): value = Array(text.utf8)
        case (nil, .some(let base64)):
            guard let data = Data(base64Encoded: base64) else { throw APIBodyError("valueBase64 is not valid base64") }
            value = Array(data)
        case (nil, nil): value = nil
        }
        return APIRequestRecord(key: body.key.map { Array($0.utf8) }, value: value, headers: headers)
    }

    /// What the worker will make of this record, read from `topic` now: the rejection the API
    /// answers 400 with, before writing anything.
    public func check(with parser: RequestParser, inputTopic: String, nowMillis: Int64) -> Result<ParsedRequest, RequestRejection> {
        let record = InputRecord(topic: inputTopic, partition: 0, offset: 0, timestampMillis: nowMillis, key: key, value: value, headers: headers)
        return parser.parse(record, nowMillis: nowMillis)
    }
}
