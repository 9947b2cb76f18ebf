import Testing

@testable import TockCore

@Suite("Topic globs and topic names")
struct TopicGlobTests {
    @Test(
        "matches",
        arguments: [
            ("*", "orders"), ("*", "a"), ("orders.*", "orders."), ("orders.*", "orders.eu.paid"),
            ("orders.?", "orders.1"), ("?", "x"), ("??", "ab"), ("orders", "orders"), ("*-dlq", "billing-dlq"),
            ("a*b*c", "aXXbYYc"), ("a*b*c", "abc"), ("*.*", "a.b"), ("**", "x"), ("a*a*a*a*b", "aaaaaaaaaab"),
            ("*ab", "aab"),
        ])
    func matches(pattern: String, topic: String) {
        #expect(TopicGlob(pattern).matches(topic))
    }

    @Test(
        "does not match",
        arguments: [
            ("orders.*", "orders"), ("orders.*", "billing.orders.x"), ("orders.?", "orders.12"), ("orders.?", "orders."),
            ("?", "ab"), ("?", ""), ("orders", "orders2"), ("orders", "Orders"), ("a*b*c", "aXXbYY"),
            ("a*a*a*a*b", "aaaaaaaaaaa"), ("", "orders"), ("*-dlq", "billing-dlq2"),
        ])
    func doesNotMatch(pattern: String, topic: String) {
        #expect(!TopicGlob(pattern).matches(topic))
    }

    @Test(
        "valid Kafka topic names",
        arguments: [
            "a", "orders", "orders.eu_paid-v2", "...", "a..", String(repeating: "x", count: 249), "0",
        ])
    func validNames(name: String) {
        #expect(TopicGlob.isValidKafkaTopicName(name))
    }

    @Test(
        "invalid Kafka topic names",
        arguments: [
            "", ".", "..", "orders eu", "orders/eu", "orders*", "ordérs", String(repeating: "x", count: 250), "a\u{0}",
        ])
    func invalidNames(name: String) {
        #expect(!TopicGlob.isValidKafkaTopicName(name))
    }
}
