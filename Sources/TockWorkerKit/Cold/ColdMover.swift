import Logging
import ServiceLifecycle
import TockCore
import TockKafka
import TockStore

/// Moves the cold messages of the shards this worker owns into the hot store ahead of their hour,
/// and copies the day slots whose positions those shards keep into their hour partitions
/// (docs/tiered-storage.md). Which partitions it reads is `ColdReadPlan`'s decision; what it
/// does with a polled batch is `ColdBatch`'s. Every move is fenced by the shard's owner epoch and
/// records the read positions in the same call, so a crash or a shard move resumes where the
/// last call left off, and a repeated move finds its index entry gone.
public final class ColdMover: Service, Sendable {
    let topics: ColdTopics
    let consumer: KafkaConsumer
    let producer: KafkaProducerPool
    let store: ScheduleStore
    let fire: FireService
    let state: WorkerState
    let metrics: ColdMetrics
    let clock: any WallClock
    let movesPerSecond: Int
    let logger: Logger
    /// A record whose index entry was not there is tried again for this long after it was first
    /// read: its entry may be written by a store call still under way (the record is written
    /// first; the cold producer gives up on a record after 30 s, and the batch is then read and
    /// written again).
    static let retryWindowMillis: Int64 = 60_000
    static let retryIntervalMillis: Int64 = 1_000
    /// How often the index's counts per hour slot are read, to find slots whose window closed
    /// with messages left (`ColdReadPlan`).
    static let countsIntervalMillis: Int64 = 2_000
    static let batchSize = 500

    public init(
        topics: ColdTopics, consumer: KafkaConsumer, producer: KafkaProducerPool, store: ScheduleStore, fire: FireService, state: WorkerState,
        movesPerSecond: Int, clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.topics = topics
        self.consumer = consumer
        self.producer = producer
        self.store = store
        self.fire = fire
        self.state = state
        self.metrics = ColdMetrics()
        self.clock = clock
        self.movesPerSecond = movesPerSecond
        self.logger = logger
    }

    public func run() async throws {
        var reading = ColdReading()
        var pacer = MovePacer(perSecond: movesPerSecond)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let handled = try await step(&reading)
                if let wait = pacer.note(handled, nowMillis: clock.nowMillis()) { try? await Task.sleep(for: .milliseconds(wait)) }
            } catch {
                // Nothing read since the last recorded position counts: the next step reads it again.
                reading.assigned = [:]
                reading.consumerAssigned = nil
                metrics.errors.increment()
                logger.warning("cold move failed; reading again from the recorded positions", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await consumer.close()
        logger.info("cold mover stopped")
    }

    /// One round: follow the plan, read one batch, move or copy it, retry what was not there.
    /// Returns how many records it handled.
    func step(_ reading: inout ColdReading) async throws -> Int {
        let now = clock.nowMillis()
        let owned = state.ownerships
        // A shard fenced at an epoch is read again once this worker owns it at another.
        reading.fenced = reading.fenced.filter { owned[$0.key]?.epoch == $0.value }
        let owners = owned.filter { reading.fenced[$0.key] != $0.value.epoch }
        if now >= reading.nextCountsMillis {
            reading.nextCountsMillis = now + Self.countsIntervalMillis
            // The last counts stand in when Redis does not answer: moves go on meanwhile.
            do { reading.counts = try await store.coldCounts().byShard } catch {
                logger.warning("cold counts not read; using the last ones", metadata: ["error": "\(error)"])
            }
        }
        let wanted = ColdReadPlan.reads(topics: topics, ownedShards: Set(owners.keys), nowMillis: now, behind: reading.counts)
        if wanted != Set(reading.assigned.keys) { try await follow(wanted, &reading) }
        var handled = 0
        if !reading.assigned.isEmpty {
            let messages = try await consumer.poll(maxMessages: Self.batchSize, timeout: .milliseconds(200))
            handled += try await handle(messages, owners: owners, reading: &reading)
        } else {
            try? await Task.sleep(for: .milliseconds(200))
        }
        if now >= reading.nextRetryMillis {
            reading.nextRetryMillis = now + Self.retryIntervalMillis
            handled += try await retry(owners: owners, reading: &reading)
        }
        return handled
    }

    /// Reads exactly `wanted`, each from its recorded position (the beginning when it has none).
    func follow(_ wanted: Set<ColdRead>, _ reading: inout ColdReading) async throws {
        var next: [ColdRead: Int64] = [:]
        let new = wanted.filter { reading.assigned[$0] == nil }
        for (shard, reads) in Dictionary(grouping: new, by: \.shard) {
            // A shard whose positions cannot be read now is left out, and tried again next round.
            do {
                let positions = try await store.coldPositions(shard: shard, fields: reads.map(\.field))
                for read in reads { next[read] = positions[read.field] ?? KafkaTopicPartitionOffset.beginning }
            } catch {
                logger.warning("cold positions not read", metadata: ["shard": "\(shard)", "error": "\(error)"])
            }
        }
        for read in wanted where next[read] == nil { next[read] = reading.assigned[read] }
        // Partitions kept go on fetching: only the added and the removed change.
        func offset(_ read: ColdRead, _ at: Int64) -> KafkaTopicPartitionOffset {
            KafkaTopicPartitionOffset(topic: read.topic, partition: read.partition, offset: at)
        }
        if reading.consumerAssigned == nil {
            try await consumer.assign(next.map { offset($0.key, $0.value) })
        } else {
            let added = next.filter { reading.assigned[$0.key] == nil }.map { offset($0.key, $0.value) }
            let removed = (reading.consumerAssigned ?? []).subtracting(next.keys).map {
                KafkaTopicPartition(topic: $0.topic, partition: $0.partition)
            }
            try await consumer.changeAssignment(adding: added, removing: removed)
        }
        reading.assigned = next
        reading.consumerAssigned = Set(next.keys)
        logger.debug("cold partitions read", metadata: ["partitions": "\(next.keys.map(\.field).sorted().joined(separator: ","))"])
    }

    func handle(_ messages: [KafkaConsumerMessage], owners: [Int: ShardOwnership], reading: inout ColdReading) async throws -> Int {
        let batch = ColdBatch(messages, assigned: reading.assigned, shardMap: store.shardMap, nowMillis: clock.nowMillis())
        if batch.unreadable > 0 {
            metrics.unreadable.increment(by: batch.unreadable)
            logger.error("cold records that are not Tock's were skipped", metadata: ["count": "\(batch.unreadable)"])
        }
        // Copies first: a day record reaches its hour partition before the day's position moves.
        for (shard, copy) in batch.copies {
            guard let owner = owners[shard] else { continue }
            let records = copy.records.map { topics.hourRecord($0.record, shard: store.shardMap.shard(of: $0.record.id)) }
            try await producer.sendAll(records)
            try await moveRecords([], shard: shard, owner: owner, positions: copy.positions, reading: &reading)
            metrics.copied.increment(by: records.count)
        }
        for (shard, move) in batch.moves {
            guard let owner = owners[shard] else { continue }
            try await moveRecords(move.records, shard: shard, owner: owner, positions: move.positions, reading: &reading)
        }
        // A shard no longer owned, or fenced, keeps its recorded position for its next owner.
        for (read, offset) in batch.nextOffsets where reading.assigned[read] != nil && owners[read.shard] != nil && reading.fenced[read.shard] == nil
        {
            reading.assigned[read] = offset
        }
        return messages.count
    }

    /// One move call; records whose entry was absent go to the retries. The positions it records
    /// stop at the earliest record being retried, or found absent in this call (`move.lua`), so
    /// that a next reader of the partition (the retries are this process's) reads it again.
    func moveRecords(
        _ records: [ColdBatch.Read], shard: Int, owner: ShardOwnership, positions: [String: Int64], reading: inout ColdReading,
        holdsPositions: Bool = true
    ) async throws {
        let now = clock.nowMillis()
        let positions = holdsPositions ? reading.held(positions) : positions
        let moves = records.map { ColdMove($0.record, field: holdsPositions ? $0.field : nil, offset: $0.offset) }
        let outcomes: [MoveOutcome]
        do {
            outcomes = try await store.move(moves, shard: shard, as: owner, positions: positions, nowMillis: now)
        } catch {
            guard case .fenced = error else { throw error }
            reading.fenced[shard] = owner.epoch
            // Its partitions are read again from the recorded positions when it comes back.
            reading.assigned = reading.assigned.filter { $0.key.shard != shard }
            reading.consumerAssigned = nil
            logger.info("cold reads of a shard fenced: another worker owns it now", metadata: ["shard": "\(shard)"])
            return
        }
        var claimed: [(id: String, dueMillis: Int64)] = []
        for (read, outcome) in zip(records, outcomes) {
            switch outcome {
            case .moved, .movedClaimed:
                metrics.noteMoved(aheadMillis: read.record.dueMillis - now)
                if outcome == .movedClaimed { claimed.append((read.record.id, read.record.dueMillis)) }
            case .absent:
                if now - read.seenMillis < Self.retryWindowMillis { reading.retries.append(read) } else { metrics.stale.increment() }
            case .duplicate:
                metrics.stale.increment()
            }
        }
        if !claimed.isEmpty { fire.insert(claimed) }
    }

    /// Tries again the records whose entry was absent; drops those past the retry window.
    func retry(owners: [Int: ShardOwnership], reading: inout ColdReading) async throws -> Int {
        guard !reading.retries.isEmpty else { return 0 }
        let now = clock.nowMillis()
        let due = reading.retries.filter { now - $0.seenMillis < Self.retryWindowMillis }
        metrics.stale.increment(by: reading.retries.count - due.count)
        reading.retries = []
        for (shard, reads) in Dictionary(grouping: due, by: { store.shardMap.shard(of: $0.record.id) }) {
            guard let owner = owners[shard] else { continue }
            try await moveRecords(reads, shard: shard, owner: owner, positions: [:], reading: &reading, holdsPositions: false)
        }
        return due.count
    }
}

/// The mover's state between rounds.
struct ColdReading {
    /// The partitions read, each with the next offset to read.
    var assigned: [ColdRead: Int64] = [:]
    /// What the consumer was last given, nil when it must be given the whole assignment again
    /// (at the start, and after an error or a fence: positions go back to the recorded ones).
    var consumerAssigned: Set<ColdRead>?
    /// Records whose index entry was absent, tried again until they are too old.
    var retries: [ColdBatch.Read] = []
    var nextRetryMillis: Int64 = 0
    /// Per shard, the index's counts per due hour slot, as last read.
    var counts: [Int: [Int64: Int]] = [:]
    var nextCountsMillis: Int64 = 0
    /// Shards whose move was fenced, at the epoch it was fenced at: not read again at that epoch.
    var fenced: [Int: Int64] = [:]

    /// `positions`, each held back to the earliest record of its partition being retried.
    func held(_ positions: [String: Int64]) -> [String: Int64] {
        guard !retries.isEmpty else { return positions }
        var held = positions
        for read in retries where held[read.field] != nil { held[read.field] = min(held[read.field]!, read.offset) }
        return held
    }
}
