/// Why a request went to `tock.rejected`; the raw value is the `tock-error` header (SPEC.md).
public enum RejectionCode: String, Sendable, CaseIterable {
    case missingTopic = "missing-topic"
    case missingTime = "missing-time"
    case bothTimes = "both-times"
    case badTime = "bad-time"
    case horizon = "horizon"
    case payloadTooLarge = "payload-too-large"
    case topicNotAllowed = "topic-not-allowed"
    case badId = "bad-id"
    case badAction = "bad-action"
    /// (v3) More than 8 tags in `tock-tags`, or a tag that is not 1–64 printable ASCII bytes.
    case badTags = "bad-tags"
    /// A `tock-cron` that does not parse or can never match.
    case badCron = "bad-cron"
    /// A `tock-tz` the tz database does not know.
    case badTimezone = "bad-timezone"
    /// Both `tock-cron` and `tock-every`, neither with other series headers, a bad `tock-every`,
    /// `tock-count`, `tock-until` or `tock-catchup`, or a series with no occurrence left.
    case badRecurrence = "bad-recurrence"
}

/// A request that cannot be accepted: the code for machines, one sentence for people
/// (`tock-error-detail`), naming the header at fault and its value.
public struct RequestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: RejectionCode
    public var detail: String

    public init(code: RejectionCode, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}
