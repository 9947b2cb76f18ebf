import Logging
import ServiceLifecycle
import Synchronization
import TockConcurrency
import TockCore
import TockRedis

/// Asks the process's dependencies, every `interval`, whether they can do their part: Redis
/// accepts a write, a Kafka broker answers. Each check has its own short timeout, so `/readyz`
/// turns 503 within about interval + timeout of an outage (unreachable, stalled, or refusing
/// writes, as a full Redis does) and turns back with the first check that passes.
public final class DependencyProbe: Service, Sendable {
    public struct Check: Sendable {
        public var name: String
        public var run: @Sendable () async throws -> Void

        public init(name: String, run: @escaping @Sendable () async throws -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// How long one check may take before its dependency counts as stalled.
    public static let checkTimeout = Duration.seconds(1)

    let checks: [Check]
    let interval: Duration
    let logger: Logger
    private let failures = Mutex<[String: String]>([:])

    public init(checks: [Check], interval: Duration = .milliseconds(500), logger: Logger) {
        self.checks = checks
        self.interval = interval
        self.logger = logger
    }

    /// One line per dependency whose last check failed.
    public var notReadyReasons: [String] {
        failures.withLock { $0.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" } }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await checkOnce()
            try? await Task.sleep(for: interval)
        }
    }

    func checkOnce() async {
        await withTaskGroup(of: Void.self) { group in
            for check in checks {
                group.addTask {
                    let failure: String?
                    do {
                        try await check.run()
                        failure = nil
                    } catch {
                        failure = "\(error)"
                    }
                    let before = self.failures.withLock { failures in
                        defer { failures[check.name] = failure }
                        return failures[check.name]
                    }
                    if let failure, before == nil {
                        self.logger.warning("not ready: \(check.name) check failed", metadata: ["error": "\(failure)"])
                    } else if failure == nil, before != nil {
                        self.logger.info("ready again: \(check.name) answers")
                    }
                }
            }
        }
    }

    private static let readinessWrite = RedisScript(name: "readiness", source: "return redis.call('SET', KEYS[1], ARGV[1], 'PX', 10000)")

    /// Redis accepts a small write (a full Redis refuses it with OOM) on a connection of its own
    /// whose command timeout is `checkTimeout`.
    public static func redisWrite(_ configuration: TockConfiguration, holder: String, logger: Logger) throws -> Check {
        var redis = try RedisClient.Configuration(configuration)
        redis.connection.connectTimeout = min(redis.connection.connectTimeout, checkTimeout)
        redis.connection.commandTimeout = min(redis.connection.commandTimeout, checkTimeout)
        // Readiness comes back with the first check after Redis does, not after a long backoff.
        redis.connection.reconnectBackoff = .milliseconds(100)
        redis.connection.maxReconnectBackoff = .milliseconds(500)
        // One try: a cluster that cannot serve the key's slot now is not ready now.
        redis.cluster.maxAttempts = 2
        let client = RedisClient(configuration: redis, poolSize: 1, logger: logger)
        let key = RedisArgument("\(configuration.store.keyPrefix):readiness")
        let write = RedisScriptCall(readinessWrite, keys: [key], args: [RedisArgument(holder)])
        return Check(name: "redis") {
            // Not retried on a fresh connection: one timeout is the answer. Durable: with
            // store.replicaAcks, a primary whose replicas do not confirm writes is not ready.
            _ = try await client.pipelineEvalSHA([write], idempotent: false, durable: true)[0].get()
        }
    }
}
