import Foundation
import Logging
import ServiceLifecycle
import TockCore
import TockHTTP
import TockKafka
import TockRedis
import TockRuntime
import TockStore

/// A monitor built and not yet running, and the monitor service tests look at.
public struct Monitor: BuiltProcess {
    public static let kind = "monitor"
    public let group: ServiceGroup
    public let monitor: MonitorService
    public let logger: Logger
}

/// Builds a monitor with its HTTP server (`/metrics`, `/healthz`, `/readyz`, the console at `/`,
/// and the API under `/v1/`, `MonitorRoutes`) in a `ServiceGroup`; SIGTERM resigns leadership.
public enum MonitorProcess {
    public static func buildMonitor(
        configuration: TockConfiguration, logger: Logger, handlesSignals: Bool = true
    ) async throws -> Monitor {
        let metrics = TockMetrics.bootstrap()
        let monitorID = "monitor-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        var logger = logger
        logger[metadataKey: "monitor"] = "\(monitorID)"
        let resources = SharedResources()
        let redis = try await RedisClient.connect(configuration, poolSize: 2, logger: logger)
        resources.add("redis") { await redis.close() }
        let store = try ScheduleStore(client: redis, configuration: configuration, logger: logger)
        try await store.verifyShardCount()
        // The monitor judges heartbeats on Redis's clock itself; its own, measured against it, times
        // the rest (overdue messages, the console) and is reported (SPEC guarantee 5).
        let clock = ClockService(store: store, configuration: configuration.clock, logger: logger)
        await clock.checkOnce()
        let monitor = MonitorService(
            store: store, monitorID: monitorID,
            heartbeatIntervalMillis: configuration.cluster.heartbeatIntervalMillis,
            heartbeatTimeoutMillis: configuration.cluster.heartbeatTimeoutMillis, clock: clock.clock, logger: logger)
        let console = ConsoleService(store: store, monitor: monitor, clock: clock.clock, clockStatus: { clock.status }, logger: logger)
        let probe = DependencyProbe(checks: [try DependencyProbe.redisWrite(configuration, holder: monitorID, logger: logger)], logger: logger)
        // Look-ups from /v1/messages get a Redis connection of their own: however many clients
        // ask at once, they queue among themselves, never before the monitor's own calls.
        let lookupRedis = try await RedisClient.connect(configuration, poolSize: 1, logger: logger)
        resources.add("look-up redis") { await lookupRedis.close() }
        let lookups = try ScheduleStore(client: lookupRedis, configuration: configuration, logger: logger)
        // The operators' API: its writes and audit records go to Kafka, dead letters come from it.
        let writer = APIWriter(configuration: configuration, logger: logger)
        resources.add("API producer") { await writer.shutdown() }
        let gate = APIGate(configuration: configuration, writer: writer, clock: clock.clock, logger: logger)
        let api = APIRoutes(
            configuration: configuration, gate: gate, writer: writer, dead: DeadLetterReader(configuration: configuration, logger: logger),
            store: lookups, clock: clock.clock)
        let tagCancels = TagCancelService(
            store: lookups, writer: writer, isLeading: { monitor.currentSnapshot.leading }, clock: clock.clock,
            ratePerSecond: configuration.api.tagCancelRate, logger: logger)
        var limits = HTTPLimits()
        // A schedule's body carries its payload, in base64 at worst.
        limits.maxBodyBytes = max(limits.maxBodyBytes, configuration.limits.maxPayloadBytes / 3 * 4 + 64 * 1_024)
        let http = HTTPService(
            host: configuration.http.host, port: configuration.http.port, metrics: metrics,
            readiness: { ReadinessReport(reasons: probe.notReadyReasons, notes: clock.status.state == .ok ? [] : [clock.status.detail]) },
            extraRoutes: MonitorRoutes.make(monitor: monitor, console: console, store: lookups, gate: gate, api: api), limits: limits,
            logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: resources), .init(service: http), .init(service: probe), .init(service: clock), .init(service: monitor),
                .init(service: console), .init(service: tagCancels),
            ],
            gracefulShutdownSignals: handlesSignals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(configuration.shutdown.timeoutMillis)
        logger.info("monitor started", metadata: ["config": "\(configuration.summary)"])
        return Monitor(group: ServiceGroup(configuration: groupConfiguration), monitor: monitor, logger: logger)
    }
}
