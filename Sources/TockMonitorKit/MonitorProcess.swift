import Foundation
import Logging
import ServiceLifecycle
import TockCore
import TockRedis
import TockRuntime
import TockStore

/// Builds a monitor from its configuration and runs it with its HTTP server (`/metrics`,
/// `/healthz`, `/readyz`, `/v1/cluster`, the console at `/` with `/v1/console` and
/// `/v1/messages/<tock-id>`) in a `ServiceGroup`; SIGTERM resigns leadership.
public enum MonitorProcess {
    public static func run(configuration: TockConfiguration, logger: Logger) async throws {
        let metrics = TockMetrics.bootstrap()
        let monitorID = "monitor-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        var logger = logger
        logger[metadataKey: "monitor"] = "\(monitorID)"
        let redis = try await RedisClient.connect(configuration, poolSize: 2, logger: logger)
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
        let lookups = try ScheduleStore(client: lookupRedis, configuration: configuration, logger: logger)
        let http = HTTPService(
            host: configuration.http.host, port: configuration.http.port, metrics: metrics,
            readiness: { ReadinessReport(reasons: probe.notReadyReasons, notes: clock.status.state == .ok ? [] : [clock.status.detail]) },
            extraRoutes: MonitorRoutes.make(monitor: monitor, console: console, store: lookups), logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: http), .init(service: probe), .init(service: clock), .init(service: monitor), .init(service: console)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(configuration.shutdown.timeoutMillis)
        logger.info("monitor started", metadata: ["config": "\(configuration.summary)"])
        try await ServiceGroup(configuration: groupConfiguration).run()
        await lookupRedis.close()
        await redis.close()
        logger.info("monitor stopped")
    }
}
