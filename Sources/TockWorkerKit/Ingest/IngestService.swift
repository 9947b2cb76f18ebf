import Logging
import ServiceLifecycle
import TockCore
import TockKafka
import TockStore

/// Reads scheduling requests from the input topics and makes them durable in Redis, one batch
/// at a time (the bound on in-flight work: a slow Redis slows consumption, nothing piles up).
/// An offset is stored, then committed, only after its batch is in Redis; rejections reach
/// `tock.rejected` before that. On a store error it seeks back to the batch's first offsets and
/// reads them again, so a shard never stores a later batch of a partition before an earlier one.
public final class IngestService: Service, Sendable {
    let configuration: TockConfiguration
    let consumer: KafkaConsumer
    let producer: KafkaProducerPool
    let store: ScheduleStore
    let fire: FireService
    let state: WorkerState
    let metrics: WorkerMetrics
    let parser: RequestParser
    let clock: any WallClock
    let faults: FaultPoints
    let logger: Logger
    /// Which incarnation of each input partition is read (SPEC guarantee 6).
    let partitions: InputPartitions
    let admin: KafkaAdmin?
    /// The cold tier and its producer, when `store.hotHorizon` is on.
    let cold: (topics: ColdTopics, producer: KafkaProducerPool)?
    /// Records per batch. Larger batches amortise the per-shard script calls but hold more in
    /// memory (measured here: 5k → 47k requests/s, RSS 141 MB with 5M pending; 10k → 59k/s,
    /// 156 MB; 20k → 68k/s, 208 MB). What one poll returns is also bounded by librdkafka's
    /// consumer queue (`queued.max.messages.kbytes`).
    let maxBatch = 10_000

    public init(
        configuration: TockConfiguration,
        consumer: KafkaConsumer,
        producer: KafkaProducerPool,
        store: ScheduleStore,
        fire: FireService,
        state: WorkerState,
        metrics: WorkerMetrics,
        admin: KafkaAdmin?,
        finder: KafkaRecordFinder,
        cold: (topics: ColdTopics, producer: KafkaProducerPool)? = nil,
        clock: any WallClock = SystemWallClock(),
        faults: FaultPoints = FaultPoints(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.consumer = consumer
        self.producer = producer
        self.store = store
        self.fire = fire
        self.state = state
        self.metrics = metrics
        self.parser = RequestParser(configuration: configuration)
        self.clock = clock
        self.faults = faults
        self.logger = logger
        self.admin = admin
        self.cold = cold
        partitions = InputPartitions(
            store: store, consumer: consumer, admin: admin, finder: finder, state: state, metrics: metrics, logger: logger)
    }

    /// The consumer's rebalance callback: it runs on the consumer's poll thread and must be quick.
    public static func rebalanceHandler(state: WorkerState, metrics: WorkerMetrics, logger: Logger) -> @Sendable (KafkaRebalanceEvent) -> Void {
        { event in
            switch event.kind {
            case .assigned:
                state.noteAssigned(event.partitions)
            case .revoked, .lost:
                // Stored offsets not committed yet are re-read by the next owner: a no-op there.
                state.noteRevoked(event.partitions)
                // Its next owner reports its lag now.
                metrics.inputLag.forget(event.partitions)
            }
            logger.info("input partitions \(event.kind)", metadata: ["partitions": "\(event.partitions.map(\.description).joined(separator: ","))"])
        }
    }

    public func run() async throws {
        // The topic-id watch waits for the broker (up to 2 s when it is slow): beside the poll
        // loop, not in it, so ingest never waits for it.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.watchLoop() }
            try await consumeLoop()
            group.cancelAll()
        }
    }

    func watchLoop() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await partitions.watchTopics()
            try? await Task.sleep(for: InputPartitions.watchInterval)
        }
    }

    func consumeLoop() async throws {
        var lastCommit = clock.nowMillis()
        var pendingCommit = false
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let messages: [PolledRequest]
            do {
                messages = try await poll()
            } catch let error as KafkaError where !error.isFatal {
                metrics.kafkaErrors.increment()
                logger.warning("poll failed", metadata: ["error": "\(error)"])
                continue
            }
            if !messages.isEmpty {
                var kept = messages
                do {
                    let prepared = try await partitions.prepare(messages.map(\.message))
                    if !prepared.rewind.isEmpty {
                        kept = messages.filter { !prepared.rewind.contains($0.message.topicPartition) }
                        try await consumer.seek(
                            prepared.rewind.map { KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: -2) })
                        logger.warning(
                            "new input partitions read from past their start: reading them from the start",
                            metadata: ["partitions": "\(prepared.rewind.map(\.description).sorted().joined(separator: ","))"])
                    }
                    if !kept.isEmpty {
                        try await ingest(kept, known: prepared.known)
                        pendingCommit = true
                    }
                    failures = 0
                    state.setRedisError(nil)
                } catch {
                    failures += 1
                    if case StoreError.redis(let redisError) = error {
                        metrics.redisErrors.increment()
                        state.setRedisError("\(redisError)")
                    } else if error is KafkaError {
                        metrics.kafkaErrors.increment()
                    } else {
                        metrics.redisErrors.increment()
                    }
                    logger.warning("batch not stored; reading it again", metadata: ["error": "\(error)", "failures": "\(failures)"])
                    await seekBack(kept.map(\.message))
                    try? await Task.sleep(for: .milliseconds(min(5_000, 100 * (1 << min(failures, 6)))))
                    continue
                }
            }
            let now = clock.nowMillis()
            if pendingCommit && now - lastCommit >= configuration.kafka.commitIntervalMillis {
                await commit()
                pendingCommit = false
                lastCommit = now
            }
        }
        // Graceful drain: stop consuming, commit what is stored, leave the group.
        if pendingCommit { await commit() }
        await consumer.close()
        await admin?.close()
        logger.info("ingest stopped")
    }

    /// A batch of requests, parsed on the consumer's thread as they arrive. After the first, it
    /// waits up to `kafka.consumerLinger` for more, so that a store call carries many requests per
    /// shard; a request that must not wait ends the wait (`IngestLinger`).
    func poll() async throws -> [PolledRequest] {
        let linger = IngestLinger(
            lingerMillis: configuration.kafka.consumerLingerMillis,
            lockAheadMillis: configuration.delivery.lockAheadMillis)
        return try await consumer.poll(maxMessages: maxBatch, timeout: .milliseconds(100), linger: .milliseconds(linger.lingerMillis)) {
            [parser, clock] message in
            let record = InputRecord(message)
            let now = clock.nowMillis()
            let parsed = parser.parse(record, nowMillis: now)
            return (PolledRequest(message: message, record: record, parsed: parsed), linger.endsWait(parsed, nowMillis: now))
        }
    }

    func commit() async {
        do { try await consumer.commit() } catch {
            // Harmless: the records are re-read later and their watermarks make that a no-op.
            metrics.commitFailures.increment()
            logger.warning("offset commit failed", metadata: ["error": "\(error)"])
        }
    }

    /// Stores a batch; `known` gives each partition's incarnation (`InputPartitions.prepare`).
    func ingest(_ messages: [PolledRequest], known: [KafkaTopicPartition: InputPartitions.Known]) async throws {
        let now = clock.nowMillis()
        let watermarks = try Self.watermarks(messages, known: known)
        let batch = IngestBatch(
            messages, watermarks: watermarks, nowMillis: now, shardMap: store.shardMap, rejectedTopic: configuration.kafka.rejectedTopic,
            cold: cold?.topics)
        if !batch.rejections.isEmpty {
            try await producer.sendAll(batch.rejections)
            metrics.rejected.increment(by: batch.rejections.count)
            for code in batch.rejectionCodes { metrics.rejectedByCode[code]?.increment() }
            state.activity.rejected(batch.rejectionCodes)
        }

        // Cold records before their index entries (docs/tiered-storage.md): a crash between leaves
        // a record with no entry, which no move takes; the batch is read again.
        if let cold, !batch.coldRecords.isEmpty { try await cold.producer.sendAll(batch.coldRecords) }
        // Their partition counts are looked up now, so that publishing them need not wait for one.
        for topic in batch.outputTopics { _ = producer.knownPartitionCount(of: topic) }
        let outcomes = try await store.store(batch.entries, watermarks: watermarks, nowMillis: now, claimAs: state.ownerships)
        if faults.loseStoreReply() {
            throw StoreError.redis(.connection("the store's reply was lost (\(FaultPoints.environmentVariable))"))
        }
        for outcome in outcomes.values.joined() { metrics.count(outcome) }
        let wheel = batch.wheelChanges(outcomes)
        for id in wheel.remove { fire.cancel(id) }
        fire.insert(wheel.insert)

        let next = batch.nextOffsets
        try consumer.storeOffsets(next.map { KafkaTopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })
        partitions.stored(next)
        recordLag(next)
    }

    /// What the batch tells the shards of each partition ("topic/partition"): its incarnation and
    /// its last record (messages of a partition come in offset order).
    static func watermarks(_ messages: [PolledRequest], known: [KafkaTopicPartition: InputPartitions.Known]) throws -> [String: BatchWatermark] {
        var last: [KafkaTopicPartition: InputRecord] = [:]
        for message in messages { last[message.message.topicPartition] = message.record }
        var watermarks: [String: BatchWatermark] = [:]
        for (tp, record) in last {
            guard let incarnation = known[tp] else { throw KafkaError(code: .failed, message: "\(tp) was not checked", isRetriable: false) }
            watermarks["\(tp.topic)/\(tp.partition)"] = BatchWatermark(
                generation: incarnation.generation, topicID: incarnation.topicID, offset: record.offset, fingerprint: record.fingerprint)
        }
        return watermarks
    }

    /// `tock_input_lag`: what each partition of the batch still has beyond it, by the high
    /// watermark of the fetch that brought it.
    func recordLag(_ next: [KafkaTopicPartition: Int64]) {
        for (tp, offset) in next {
            guard let high = consumer.fetchedHighWatermark(topic: tp.topic, partition: tp.partition) else { continue }
            metrics.inputLag.record(tp, lag: max(0, high - offset))
        }
    }

    /// Seeks every partition of a failed batch back to its first offset in the batch.
    func seekBack(_ messages: [KafkaConsumerMessage]) async {
        var first: [KafkaTopicPartition: Int64] = [:]
        for message in messages { first[message.topicPartition] = min(first[message.topicPartition] ?? .max, message.offset) }
        for (tp, offset) in first {
            do { try await consumer.seek(KafkaTopicPartitionOffset(topic: tp.topic, partition: tp.partition, offset: offset)) } catch {
                logger.error(
                    "seek back failed; the partition resumes from its committed offset", metadata: ["partition": "\(tp)", "error": "\(error)"])
            }
        }
    }
}

/// A request as read, with what the parser made of it.
struct PolledRequest: Sendable {
    let message: KafkaConsumerMessage
    let record: InputRecord
    let parsed: Result<ParsedRequest, RequestRejection>
}
