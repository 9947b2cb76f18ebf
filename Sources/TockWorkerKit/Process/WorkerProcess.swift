import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TockCore
import TockHTTP
import TockKafka
import TockRedis
import TockRuntime
import TockStore

/// A worker built and not yet running, and the state tests look at.
public struct Worker: BuiltProcess {
    public static let kind = "worker"
    public let group: ServiceGroup
    public let state: WorkerState
    public let store: ScheduleStore
    public let logger: Logger
}

/// Builds a worker: its services run in a `ServiceGroup`, shared resources first (closed last),
/// then HTTP (it answers until the end), then ownership, firing, ingest, which `WorkerStartup`
/// adds once ownership is settled. Graceful shutdown goes in reverse: stop consuming and commit,
/// let deliveries finish and hand the wheel back, give up the lease, close the clients.
public enum WorkerProcess {
    /// - Parameter handlesSignals: false for a worker run in-process (a test), which calls
    ///   `group.triggerGracefulShutdown()` instead of SIGTERM.
    public static func buildWorker(
        configuration: TockConfiguration, logger: Logger, handlesSignals: Bool = true,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Worker {
        let metrics = TockMetrics.bootstrap()
        let workerID = configuration.resolvedWorkerID()
        var logger = logger
        logger[metadataKey: "worker"] = "\(workerID)"
        let waitingShards = Gauge(label: "tock_replica_wait_shards")
        waitingShards.record(0)
        let state = WorkerState(
            workerID: workerID, token: "\(workerID)/\(UInt64.random(in: 1...UInt64.max))",
            replicaWaits: ReplicaWaits { waitingShards.record($0) })
        let faults = try FaultPoints(environment: environment)

        let resources = SharedResources()
        let redis = try await RedisClient.connect(configuration, poolSize: 4, logger: logger)
        resources.add("redis") { await redis.close() }
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
            services: [.init(service: resources), .init(service: http), .init(service: probe), .init(service: clock)],
            gracefulShutdownSignals: handlesSignals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        // Past shutdown.timeout the drain is cancelled: what it did not hand back is safe anyway
        // (leases expire, and the next owner releases the claimed set).
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(configuration.shutdown.timeoutMillis)
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        let group = ServiceGroup(configuration: groupConfiguration)
        let startup = WorkerStartup(group: group) { [logger] in
            let built = try await start(
                configuration: configuration, store: store, state: state, clock: clock.clock, hold: hold, faults: faults, resources: resources,
                logger: logger)
            if let built { outputProducer.withLock { $0 = built.producer } }
            return built?.services
        }
        await group.addServiceUnlessShutdown(.init(service: startup, successTerminationBehavior: .ignore))
        return Worker(group: group, state: state, store: store, logger: logger)
    }

    /// Takes ownership (standalone: waits for the lease while HTTP already answers), then builds
    /// the Kafka side: the consumer joins its group only once this worker may store and fire.
    /// Returns the services in start order (ownership, fire, ingest; they shut down in reverse),
    /// or nil when graceful shutdown came first.
    static func start(
        configuration: TockConfiguration, store: ScheduleStore, state: WorkerState, clock: ReferenceClock, hold: ClockHold,
        faults: FaultPoints, resources: SharedResources, logger: Logger
    ) async throws -> (services: [any Service], producer: KafkaProducerPool)? {
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
        let coldTopics = ColdTopics(configuration: configuration)
        var cold: (topics: ColdTopics, producer: KafkaProducerPool)?
        var coldMover: ColdMover?
        if let prepared = try await ColdTopicsSetup(configuration: configuration, topics: coldTopics, logger: logger).prepare() {
            try await store.verifyColdSlots(hourMillis: prepared.layout.hourSlotMillis, dayMillis: prepared.layout.daySlotMillis)
            let coldProducer = try KafkaProducerPool(
                count: 1, brokers: configuration.kafka.brokers, properties: coldProducerProperties(configuration), logger: logger)
            resources.add("cold producer") { await coldProducer.shutdown(timeout: .seconds(5)) }
            cold = (prepared, coldProducer)
        }
        let workerMetrics = WorkerMetrics(rateLimits: configuration.output.rateLimits)
        let producer = try KafkaProducerPool(
            count: configuration.kafka.outputProducers, brokers: configuration.kafka.brokers, properties: producerProperties(configuration),
            logger: logger)
        resources.add("output producer") { await producer.shutdown(timeout: .seconds(5)) }
        let consumer = try KafkaConsumer(
            brokers: configuration.kafka.brokers,
            groupId: configuration.kafka.groupId,
            topics: configuration.kafka.inputTopics,
            properties: consumerProperties(configuration),
            logger: logger,
            rebalanceHandler: IngestService.rebalanceHandler(state: state, metrics: workerMetrics, logger: logger)
        )
        let lockRedis = try await RedisClient.connect(configuration, poolSize: 2, logger: logger)
        resources.add("lock redis") { await lockRedis.close() }
        let lockStore = try ScheduleStore(client: lockRedis, configuration: configuration, replicaWaits: state.replicaWaits, logger: logger)
        let deliveryRedis = try await RedisClient.connect(configuration, poolSize: 2, logger: logger)
        resources.add("delivery redis") { await deliveryRedis.close() }
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
            state: state, metrics: workerMetrics, admin: admin, finder: finder, cold: cold, clock: clock, faults: faults, logger: logger)
        if let cold {
            let coldConsumer = try KafkaConsumer(
                brokers: configuration.kafka.brokers, groupId: "\(configuration.kafka.groupId).cold", topics: [],
                properties: coldConsumerProperties(configuration), logger: logger)
            coldMover = ColdMover(
                topics: cold.topics, consumer: coldConsumer, producer: cold.producer, store: store, fire: fire, state: state,
                movesPerSecond: configuration.store.coldMoveRate, clock: clock, logger: logger)
        }
        let ownership: any Service =
            standalone
            ?? MonitoredOwnership(
                store: store, state: state, fire: fire, intervalMillis: configuration.cluster.heartbeatIntervalMillis, clock: clock, logger: logger)
        logger.info("worker started", metadata: ["config": "\(configuration.summary)"])
        let services: [any Service] = [ownership, fire] + (coldMover.map { [$0] } ?? []) + [ingest]
        return (services, producer)
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

    /// Cold records are acknowledged by every in-sync replica, once each: their index entries
    /// are written only after (SPEC "Tiered storage").
    static func coldProducerProperties(_ configuration: TockConfiguration) -> [String: String] {
        var properties = configuration.kafka.properties
        properties["linger.ms"] = String(configuration.kafka.producerLingerMillis)
        properties["message.max.bytes"] = String(max(1_000_000, configuration.limits.maxPayloadBytes + 256 * 1024))
        properties["acks"] = "all"
        properties["enable.idempotence"] = "true"
        // Well inside the mover's retry window (`ColdMover.retryWindowMillis`): a record the broker
        // has not acknowledged by then fails its batch, which is read and written again.
        properties["message.timeout.ms"] = "30000"
        return properties
    }

    /// The cold mover's consumer assigns its partitions itself and keeps its positions in Redis.
    /// Its records are moved `store.hotHorizon` ahead of their due time, so it fetches less
    /// eagerly: the broker holds an empty fetch for up to 200 ms (the input consumer: 50 ms).
    static func coldConsumerProperties(_ configuration: TockConfiguration) -> [String: String] {
        var properties = configuration.kafka.properties
        properties["fetch.wait.max.ms"] = "200"
        properties["enable.partition.eof"] = "false"
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
