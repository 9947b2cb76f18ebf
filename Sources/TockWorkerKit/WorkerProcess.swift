import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TockCore
import TockKafka
import TockRedis
import TockRuntime
import TockStore

/// Builds a worker from its configuration and runs its services in a `ServiceGroup`: HTTP first
/// (it answers until the end), then ownership, firing, ingest, which `WorkerStartup` adds once
/// ownership is settled. SIGTERM shuts them down in reverse: stop consuming and commit, let
/// deliveries finish and hand the wheel back, give up the lease.
public enum WorkerProcess {
    public struct Unsupported: Error, CustomStringConvertible {
        public var description: String
    }

    public static func run(configuration: TockConfiguration, logger: Logger) async throws {
        let metrics = TockMetrics.bootstrap()
        let workerID = configuration.resolvedWorkerID()
        var logger = logger
        logger[metadataKey: "worker"] = "\(workerID)"
        let waitingShards = Gauge(label: "tock_replica_wait_shards")
        waitingShards.record(0)
        let state = WorkerState(
            workerID: workerID, token: "\(workerID)/\(UInt64.random(in: 1...UInt64.max))",
            replicaWaits: ReplicaWaits { waitingShards.record($0) })
        let faults = try FaultPoints(environment: ProcessInfo.processInfo.environment)

        let redis = try await RedisClient.connect(configuration, poolSize: 4, logger: logger)
        let store = try ScheduleStore(client: redis, configuration: configuration, replicaWaits: state.replicaWaits, logger: logger)
        try await store.verifyShardCount()
        // The clock is measured before anything fires (SPEC guarantee 5); until it is, and while
        // it cannot be trusted, `ClockHold` keeps the worker from firing.
        let hold = ClockHold(state: state, store: store, logger: logger)
        let clock = ClockService(store: store, configuration: configuration.clock, logger: logger) { await hold.apply($0) }
        await clock.checkOnce()

        // Kafka is checked once the worker has built its producer (after the standalone lease).
        let outputProducer = Mutex<KafkaProducerPool?>(nil)
        let probe = DependencyProbe(
            checks: [
                try DependencyProbe.redisWrite(configuration, holder: workerID, logger: logger),
                DependencyProbe.kafkaBroker { outputProducer.withLock { $0 }?.producers[0] },
            ], logger: logger)
        let http = HTTPService(
            host: configuration.http.host, port: configuration.http.port, metrics: metrics,
            readiness: { ReadinessReport(reasons: state.notReadyReasons + probe.notReadyReasons, notes: clock.readinessNotes) }, logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: http), .init(service: probe), .init(service: clock)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // Past shutdown.timeout the drain is cancelled: what it did not hand back is safe anyway
        // (leases expire, and the next owner releases the claimed set).
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(configuration.shutdown.timeoutMillis)
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        let group = ServiceGroup(configuration: groupConfiguration)
        let resources = Mutex<Resources?>(nil)
        let startup = WorkerStartup(group: group) { [logger] in
            let started = try await start(
                configuration: configuration, store: store, state: state, clock: clock.clock, hold: hold, faults: faults, logger: logger)
            if let started {
                resources.withLock { $0 = started.resources }
                outputProducer.withLock { $0 = started.resources.producer }
            }
            return started?.services
        }
        await group.addServiceUnlessShutdown(.init(service: startup, successTerminationBehavior: .ignore))
        try await group.run()
        if let resources = resources.withLock({ $0 }) {
            await resources.producer.shutdown(timeout: .seconds(5))
            await resources.lockRedis.close()
            await resources.deliveryRedis.close()
        }
        await redis.close()
        logger.info("worker stopped")
    }

    /// What the worker closes after its services stopped.
    struct Resources: Sendable {
        var producer: KafkaProducerPool
        var lockRedis: RedisClient
        var deliveryRedis: RedisClient
    }

    /// Takes ownership (standalone: waits for the lease while HTTP already answers), then builds
    /// the Kafka side: the consumer joins its group only once this worker may store and fire.
    /// Returns the services in start order (ownership, fire, ingest; they shut down in reverse),
    /// or nil when graceful shutdown came first.
    static func start(
        configuration: TockConfiguration, store: ScheduleStore, state: WorkerState, clock: ReferenceClock, hold: ClockHold,
        faults: FaultPoints, logger: Logger
    ) async throws -> (services: [any Service], resources: Resources)? {
        var standalone: StandaloneOwnership?
        if configuration.cluster.mode == .standalone {
            let ownership = StandaloneOwnership(
                store: store, state: state, leaseMillis: StandaloneOwnership.leaseMillis(configuration), logger: logger)
            guard try await ownership.acquire() else { return nil }
            standalone = ownership
        }

        if configuration.kafka.createTopics {
            let admin = try KafkaAdmin(brokers: configuration.kafka.brokers, properties: configuration.kafka.properties, logger: logger)
            let names = configuration.kafka.inputTopics + [configuration.kafka.rejectedTopic, configuration.kafka.deadTopic]
            try await admin.createTopics(names.map { ($0, configuration.kafka.topicPartitions, configuration.kafka.topicReplicationFactor) })
            await admin.close()
        }
        let workerMetrics = WorkerMetrics(rateLimits: configuration.output.rateLimits)
        let producer = try KafkaProducerPool(
            count: configuration.kafka.outputProducers, brokers: configuration.kafka.brokers, properties: producerProperties(configuration),
            logger: logger)
        let consumer = try KafkaConsumer(
            brokers: configuration.kafka.brokers,
            groupId: configuration.kafka.groupId,
            topics: configuration.kafka.inputTopics,
            properties: consumerProperties(configuration),
            logger: logger,
            rebalanceHandler: IngestService.rebalanceHandler(state: state, metrics: workerMetrics, logger: logger)
        )
        let lockRedis = try await RedisClient.connect(configuration, poolSize: 2, logger: logger)
        let lockStore = try ScheduleStore(client: lockRedis, configuration: configuration, replicaWaits: state.replicaWaits, logger: logger)
        let deliveryRedis = try await RedisClient.connect(configuration, poolSize: 2, logger: logger)
        let deliveryStore = try ScheduleStore(
            client: deliveryRedis, configuration: configuration, replicaWaits: state.replicaWaits, logger: logger)
        let finder = try KafkaRecordFinder(brokers: configuration.kafka.brokers, properties: configuration.kafka.properties, logger: logger)
        let fire = FireService(
            configuration: configuration, store: store, lockStore: lockStore, deliveryStore: deliveryStore, producer: producer,
            finder: finder, faults: faults, state: state, metrics: workerMetrics, clock: clock, logger: logger)
        hold.attach(fire)
        // Topic ids tell a recreated input partition (`InputPartitions`); ingest closes it.
        let admin = try KafkaAdmin(brokers: configuration.kafka.brokers, properties: configuration.kafka.properties, logger: logger)
        let ingest = IngestService(
            configuration: configuration, consumer: consumer, producer: producer, store: store, fire: fire,
            state: state, metrics: workerMetrics, admin: admin, finder: finder, clock: clock, faults: faults, logger: logger)
        let ownership: any Service =
            standalone
            ?? MonitoredOwnership(
                store: store, state: state, fire: fire, intervalMillis: configuration.cluster.heartbeatIntervalMillis, clock: clock, logger: logger)
        logger.info("worker started", metadata: ["config": "\(configuration.summary)"])
        return ([ownership, fire, ingest], Resources(producer: producer, lockRedis: lockRedis, deliveryRedis: deliveryRedis))
    }

    static func producerProperties(_ configuration: TockConfiguration) -> [String: String] {
        var properties = configuration.kafka.properties
        properties["linger.ms"] = String(configuration.kafka.producerLingerMillis)
        // Room for the largest accepted payload plus its key and headers.
        properties["message.max.bytes"] = String(max(1_000_000, configuration.limits.maxPayloadBytes + 256 * 1024))
        // A record not sent within this is failed by librdkafka, never sent later: the publish gate
        // hands a record over only while its lock's lease holds this much longer, so a worker that
        // stalls cannot send it after another worker may have published it (docs/never-twice.md).
        properties["message.timeout.ms"] = String(LeaseTerms(configuration.delivery).producerTimeoutMillis)
        properties.merge(configuration.kafka.producerProperties) { _, new in new }
        return properties
    }

    static func consumerProperties(_ configuration: TockConfiguration) -> [String: String] {
        var properties = configuration.kafka.properties
        properties["session.timeout.ms"] = String(configuration.kafka.sessionTimeoutMillis)
        properties["partition.assignment.strategy"] = configuration.kafka.assignmentStrategy
        properties["fetch.wait.max.ms"] = "50"
        properties.merge(configuration.kafka.consumerProperties) { _, new in new }
        return properties
    }
}
