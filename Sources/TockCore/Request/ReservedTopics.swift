/// Topics that are never output targets, whatever `output.allowedTopics` says (SPEC "Topics"):
/// Tock's own, and Kafka's internal ones (`__consumer_offsets`, `__transaction_state`), whose
/// readers a foreign record would break.
public enum ReservedTopics {
    public struct Prefix: Sendable, Hashable {
        public let text: String
        /// Whose topics these are, for error details.
        public let owner: String

        /// Why a topic with this prefix is refused, to end a sentence with.
        public var reason: String { "topics starting with \"\(text)\" (\(owner)) are never output targets" }
    }

    public static let tock = Prefix(text: "tock.", owner: "Tock's own topics")
    public static let kafkaInternal = Prefix(text: "__", owner: "Kafka's internal topics")
    public static let prefixes = [tock, kafkaInternal]

    /// The reserved prefix `topic` starts with, or nil when it may be an output target.
    public static func prefix(of topic: some Sequence<UInt8>) -> Prefix? {
        prefixes.first { topic.starts(with: $0.text.utf8) }
    }

    public static func prefix(of topic: String) -> Prefix? { prefix(of: topic.utf8) }
}
