import Logging
import Synchronization
import TockCore
import TockKafka
import TockStore

/// Which incarnation of each input partition the worker reads (SPEC guarantee 6): a partition
/// deleted and recreated, or whose broker lost records and reused their offsets, is new, and
/// none of its records may be taken for a re-read of the old one.
///
/// A partition is checked (`InputPartitionCheck`) before its first batch after an assignment is
/// stored, and again when its offsets go back (an offset reset, a log truncated under the
/// consumer) or its topic id changes under a running consumer (librdkafka does not notice a
/// recreated topic by itself). The evidence: the topic id (KIP-516) against the one stored with
/// the watermark, and the record at the watermark's offset against the fingerprint stored with
/// it, from the batch or else looked up (`KafkaRecordFinder`).
final class InputPartitions: Sendable {
    struct Known: Sendable {
        var generation: Int
        var topicID: String?
        /// The offset after the last record stored since the check; nil until one is.
        var next: Int64?
    }

    let store: ScheduleStore
    let consumer: KafkaConsumer
    let admin: KafkaAdmin?
    let finder: KafkaRecordFinder
    let state: WorkerState
    let metrics: WorkerMetrics
    let logger: Logger
    private let known = Mutex<[KafkaTopicPartition: Known]>([:])
    private let lastWatch = Mutex<ContinuousClock.Instant?>(nil)
    static let lookupTimeout: Duration = .seconds(5)
    static let watchInterval: Duration = .seconds(10)

    init(
        store: ScheduleStore, consumer: KafkaConsumer, admin: KafkaAdmin?, finder: KafkaRecordFinder, state: WorkerState,
        metrics: WorkerMetrics, logger: Logger
    ) {
        self.store = store
        self.consumer = consumer
        self.admin = admin
        self.finder = finder
        self.state = state
        self.metrics = metrics
        self.logger = logger
    }

    /// The incarnation of every partition of `messages`, checking those not known; and the
    /// partitions found new that were read from past their start: the caller stores none of their
    /// records now and reads them from the start. Throws when a check could not be made (the
    /// caller reads the batch again later): a partition is never taken for the same unchecked.
    func prepare(_ messages: [KafkaConsumerMessage]) async throws -> (known: [KafkaTopicPartition: Known], rewind: Set<KafkaTopicPartition>) {
        let assigned = state.takeNewlyAssigned()
        // Per partition, its first offset in the batch (a partition's messages come in order).
        var first: [KafkaTopicPartition: Int64] = [:]
        for message in messages where first[message.topicPartition] == nil { first[message.topicPartition] = message.offset }
        var result = known.withLock { known in
            for partition in assigned { known[partition] = nil }
            return known.filter { first[$0.key] != nil }
        }
        for (partition, offset) in first {
            guard let next = result[partition]?.next, offset < next else { continue }
            logger.info(
                "input partition read again from an earlier offset; checking which partition it is",
                metadata: ["partition": "\(partition)", "offset": "\(offset)", "storedUpTo": "\(next - 1)"])
            result[partition] = nil
        }
        let uncheckedPartitions = first.keys.filter { result[$0] == nil }
        guard !uncheckedPartitions.isEmpty else { return (result, []) }
        let unchecked = Dictionary(
            uniqueKeysWithValues: uncheckedPartitions.map { partition in (partition, messages.filter { $0.topicPartition == partition }) })

        let topicIDs = await lookUpTopicIDs(Set(unchecked.keys.map(\.topic)))
        var decided: [KafkaTopicPartition: (known: Known, recreated: Bool)] = [:]
        var rewind: Set<KafkaTopicPartition> = []
        for (partition, records) in unchecked {
            do {
                let decision = try await check(partition, records, topicID: topicIDs[partition.topic])
                decided[partition] = decision
                // A new partition read from past its start (an old committed offset, or a consumer
                // that kept its position): its records before were never stored under it.
                if decision.recreated && records[0].offset > 0,
                    try await consumer.watermarks(topic: partition.topic, partition: partition.partition, timeout: Self.lookupTimeout).low
                        < records[0].offset
                {
                    rewind.insert(partition)
                }
            } catch {
                metrics.partitionChecks["failed"]?.increment()
                logger.warning(
                    "cannot tell whether the input partition is the one stored or a new one; its batch is read again",
                    metadata: ["partition": "\(partition)", "error": "\(error)"])
                throw error
            }
        }
        // Kept only once every partition of the batch is decided: a batch read again is decided
        // again. A partition to rewind is left undecided: it is decided again when read from its
        // start, and only then counted.
        for (partition, decision) in decided where !rewind.contains(partition) {
            if decision.recreated { metrics.recreatedPartitions.increment() }
            result[partition] = decision.known
        }
        known.withLock { known in
            for (partition, decision) in decided where !rewind.contains(partition) { known[partition] = decision.known }
        }
        return (result, rewind)
    }

    /// Notes what a stored batch took each partition to (the offset after its last record).
    func stored(_ next: [KafkaTopicPartition: Int64]) {
        known.withLock { known in
            for (partition, offset) in next { known[partition]?.next = offset }
        }
    }

    /// Every `watchInterval`, compares the topic ids of the partitions being read with those they
    /// were checked under. A changed id (the topic deleted and recreated while the consumer kept
    /// reading at its old position) makes the partition's next batch checked again, which finds
    /// it new and reads it from its start. Records read between the change and this look are
    /// stored twice (under the old generation and the new): the cost of not checking every batch.
    func watchTopics() async {
        guard let admin, KafkaAdmin.describesTopicIDs else { return }
        let now = ContinuousClock.now
        let due = lastWatch.withLock { last in
            guard last.map({ now - $0 >= Self.watchInterval }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let watched = known.withLock { $0.filter { $0.value.topicID != nil } }
        guard !watched.isEmpty else { return }
        let ids: [String: String]
        do { ids = try await admin.topicIDs(Array(Set(watched.keys.map(\.topic))), timeout: .seconds(2)) } catch {
            logger.debug("cannot read the input topics' ids", metadata: ["error": "\(error)"])
            return
        }
        for (partition, was) in watched {
            guard let now = ids[partition.topic], now != was.topicID else { continue }
            logger.error(
                "input topic's id changed while it was read (deleted and recreated?): the partition is checked again",
                metadata: ["partition": "\(partition)", "was": "\(was.topicID ?? "-")", "now": "\(now)"])
            known.withLock { _ = $0.removeValue(forKey: partition) }
        }
    }

    /// Each topic's id, or none when the broker or librdkafka gives none (the check then relies on
    /// the record at the watermark).
    func lookUpTopicIDs(_ topics: Set<String>) async -> [String: String] {
        guard let admin, KafkaAdmin.describesTopicIDs else { return [:] }
        do { return try await admin.topicIDs(Array(topics), timeout: Self.lookupTimeout) } catch {
            logger.warning("cannot read the input topics' ids; checking by their records alone", metadata: ["error": "\(error)"])
            return [:]
        }
    }

    /// Decides which incarnation `partition` is, from its first records in this batch.
    func check(_ partition: KafkaTopicPartition, _ records: [KafkaConsumerMessage], topicID: String?) async throws -> (known: Known, recreated: Bool)
    {
        let check = InputPartitionCheck(marks: try await store.partitionMarks(topic: partition.topic, partition: partition.partition))
        let last = records[records.count - 1].offset
        let fetchedEnd = consumer.fetchedHighWatermark(topic: partition.topic, partition: partition.partition) ?? -1
        var seen = InputPartitionCheck.Observation(topicID: topicID, firstRead: records[0].offset, logEnd: max(last + 1, fetchedEnd))
        var verdict = check.decide(seen)
        var how = "not needed"
        if case .needsRecord(let offset) = verdict {
            how = "in the batch"
            if records[0].offset <= offset, let record = records.first(where: { $0.offset >= offset }) {
                seen.record = .found(offset: record.offset, fingerprint: InputRecord(record).fingerprint)
            } else {
                how = "looked up"
                let found = try await finder.records(at: [partition: offset], timeout: Self.lookupTimeout)[partition] ?? nil
                seen.record = found.map { .found(offset: $0.offset, fingerprint: InputRecord($0).fingerprint) } ?? .gone
            }
            verdict = check.decide(seen)
        }
        let keptID = topicID ?? check.watermark?.topicID
        var metadata: Logger.Metadata = ["partition": "\(partition)", "firstRead": "\(records[0].offset)", "record": "\(how)"]
        switch verdict {
        case .same(let generation, let why):
            metrics.partitionChecks["same"]?.increment()
            logger.info("input partition is the one stored", metadata: metadata.merging(["generation": "\(generation)", "why": "\(why)"]) { $1 })
            return (Known(generation: generation, topicID: keptID), false)
        case .recreated(let generation, let why):
            metrics.partitionChecks["recreated"]?.increment()
            metadata["generation"] = "\(generation)"
            metadata["why"] = "\(why)"
            logger.error("input partition is new (deleted and recreated, or offsets reused): all its records are stored", metadata: metadata)
            return (Known(generation: generation, topicID: topicID), true)
        case .unverified(let generation, let why):
            metrics.partitionChecks["unverified"]?.increment()
            metadata["generation"] = "\(generation)"
            metadata["why"] = "\(why)"
            logger.error(
                "cannot verify that the input partition is the one stored; its records up to the watermark are taken for re-reads (tock reset-watermarks takes it for new)",
                metadata: metadata)
            return (Known(generation: generation, topicID: keptID), false)
        case .needsRecord(let offset):
            throw KafkaError(
                code: .failed, message: "the record at offset \(offset) of \(partition) was looked up and still needed", isRetriable: false)
        }
    }
}
