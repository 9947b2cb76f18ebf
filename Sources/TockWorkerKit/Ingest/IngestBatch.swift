import TockCore
import TockKafka
import TockStore

/// What one polled batch of requests becomes, decided without Redis or Kafka: the store's
/// entries per shard, the records for `tock.rejected`, the output topics named, and the offsets
/// to store once Redis took it all. `IngestService` runs it; `IngestDecisionsTests` checks it.
struct IngestBatch {
    /// The entries per shard, in poll order within each.
    private(set) var entries: [Int: [StoreEntry]] = [:]
    /// One record per rejected request, for `tock.rejected`.
    private(set) var rejections: [KafkaProducerRecord] = []
    /// Their rejection codes, in the same order.
    private(set) var rejectionCodes: [String] = []
    private(set) var outputTopics: Set<String> = []
    /// The records of the batch's cold messages, for the cold topics: written (acknowledged by
    /// all replicas) before the store call that writes their index entries.
    private(set) var coldRecords: [KafkaProducerRecord] = []
    /// Per input partition, the offset after the batch's last record.
    private(set) var nextOffsets: [KafkaTopicPartition: Int64] = [:]

    /// - Parameters:
    ///   - watermarks: per "topic/partition", the batch's watermark: a partition recreated
    ///     (`generation` > 0) gives a request without `tock-id` an id of that generation.
    ///   - nowMillis: each stored message's store time, and what its due time is compared with
    ///     to tell a cold message (further ahead than `store.hotHorizon`).
    ///   - cold: the cold tier, nil when there is none.
    init(
        _ requests: [PolledRequest], watermarks: [String: BatchWatermark], nowMillis: Int64, shardMap: ShardMap, rejectedTopic: String,
        cold: ColdTopics? = nil
    ) {
        for request in requests {
            let record = request.record
            let tp = "\(record.topic)/\(record.partition)"
            let entry: StoreEntry
            switch request.parsed {
            case .success(let parsed):
                entry = storeEntry(
                    parsed, record: record, topicPartition: tp, generation: watermarks[tp]?.generation ?? 0, nowMillis: nowMillis,
                    shardMap: shardMap, cold: cold)
            case .failure(let rejection):
                rejections.append(OutputRecords.rejected(record, rejection: rejection, rejectedTopic: rejectedTopic))
                rejectionCodes.append(rejection.code.rawValue)
                // Advances the watermark, so a re-read of this record is not rejected twice.
                entry = StoreEntry(
                    operation: .noop, topicPartition: tp, offset: record.offset, id: record.source, tombstone: nil,
                    dueMillis: 0, blob: [])
            }
            entries[shardMap.shard(of: entry.id), default: []].append(entry)
            let partition = request.message.topicPartition
            nextOffsets[partition] = max(nextOffsets[partition] ?? 0, request.message.offset + 1)
        }
    }

    private mutating func storeEntry(
        _ parsed: ParsedRequest, record: InputRecord, topicPartition tp: String, generation: Int, nowMillis: Int64, shardMap: ShardMap,
        cold: ColdTopics?
    ) -> StoreEntry {
        switch parsed {
        case .schedule(var message), .reschedule(var message), .requeue(var message):
            message.storedMillis = nowMillis
            if !message.idWasGiven, generation > 0 {
                message.id = InputPartitionCheck.defaultID(source: record.source, generation: generation)
            }
            outputTopics.insert(message.topic)
            let operation: StoreEntry.Operation =
                switch (parsed, message.series != nil) {
                case (.schedule, false), (.requeue, _): .schedule
                case (.schedule, true): .scheduleSeries
                case (_, false): .reschedule
                case (_, true): .rescheduleSeries
                }
            var entry = StoreEntry(
                operation: operation, topicPartition: tp, offset: record.offset, id: message.id,
                // A requeue is checked against no tombstone: its id fired (as a dead letter) before.
                tombstone: message.idWasGiven && !parsed.isRequeue ? Tombstone(id: message.id) : nil, dueMillis: message.dueMillis,
                blob: MessageCodec.encode(message))
            entry.tags = message.tags.joined(separator: ",")
            // Series stay hot (SPEC "Tiered storage").
            if let cold, message.series == nil {
                let coldRecord = ColdRecord(
                    id: message.id, dueMillis: message.dueMillis, version: ColdRecord.version(source: record.source), blob: entry.blob)
                if let produced = cold.producerRecord(coldRecord, shard: shardMap.shard(of: message.id), nowMillis: nowMillis) {
                    coldRecords.append(produced)
                    entry.coldVersion = coldRecord.version
                    if operation == .schedule {
                        entry.operation = .scheduleCold
                        entry.blob = []  // in Kafka: the index keeps none of it
                    } else {
                        entry.operation = .rescheduleCold
                    }
                }
            }
            return entry
        case .cancel(let id):
            return StoreEntry(
                operation: .cancel, topicPartition: tp, offset: record.offset, id: id, tombstone: Tombstone(id: id), dueMillis: 0, blob: [])
        case .pause(let id), .resume(let id):
            return StoreEntry(
                operation: parsed.isPause ? .pauseSeries : .resumeSeries, topicPartition: tp, offset: record.offset, id: id, tombstone: nil,
                dueMillis: 0, blob: [])
        }
    }

    /// What the wheel does with the store's outcomes: a message claimed at once goes in; one
    /// cancelled or rescheduled away comes out.
    func wheelChanges(_ outcomes: [Int: [StoreOutcome]]) -> (insert: [(id: String, dueMillis: Int64)], remove: [String]) {
        var insert: [(id: String, dueMillis: Int64)] = []
        var remove: [String] = []
        for (shard, entries) in entries {
            for (entry, outcome) in zip(entries, outcomes[shard] ?? []) {
                switch outcome {
                case .claimed, .rescheduledClaimed: insert.append((entry.entry, entry.dueMillis))
                case .cancelled, .rescheduled, .rescheduledCold: remove.append(entry.id)
                default: break
                }
            }
        }
        return (insert, remove)
    }
}
