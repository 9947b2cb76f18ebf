import Foundation

/// Where a benchmark finds the servers unless told: the environment `scripts/stack` exports,
/// else the usual local ports.
enum BenchDefaults {
    static let brokers = ProcessInfo.processInfo.environment["TOCK_KAFKA_BROKERS"] ?? "127.0.0.1:9092"
    static let redisURL = ProcessInfo.processInfo.environment["TOCK_REDIS_URL"] ?? "redis://127.0.0.1:6379"
}
