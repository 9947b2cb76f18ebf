import TockCore

extension TockConfiguration {
    /// One line naming what a process will talk to; logged at start.
    public var summary: String {
        "kafka=\(kafka.brokers) inputTopics=\(kafka.inputTopics.joined(separator: ",")) "
            + "redis=\(redactedRedisURL) shards=\(store.shards) mode=\(cluster.mode.rawValue) http.port=\(http.port)"
    }

    /// The Redis URL without its password, for logs.
    public var redactedRedisURL: String {
        guard let at = redis.url.lastIndex(of: "@"), let scheme = redis.url.range(of: "://") else { return redis.url }
        return String(redis.url[..<scheme.upperBound]) + "***" + String(redis.url[at...])
    }
}
