import Testing
import TockCore
import TockKafka
import TockStore

@testable import TockWorkerKit

@Suite("The ingest path's decisions: a polled batch's store entries, rejections and offsets; a heartbeat's assignment change")
struct IngestDecisionsTests {
    static let parser = RequestParser(maxPayloadBytes: 1_000, maxHorizonMillis: 86_400_000, allowedTopics: ["*"])
    static let shardMap = ShardMap(shardCount: 4)
    static let now: Int64 = 1_000_000

    static func polled(_ offset: Int64, partition: Int32 = 0, _ headers: [(String, String)], nowMillis: Int64 = now) -> PolledRequest {
        let message = KafkaConsumerMessage(
            topic: "in", partition: partition, offset: offset, key: nil, value: Array("p\(offset)".utf8),
            headers: headers.map { KafkaHeader(key: $0.0, string: $0.1) }, timestamp: nil)
        let record = InputRecord(message)
        return PolledRequest(message: message, record: record, parsed: parser.parse(record, nowMillis: nowMillis))
    }

    @Test("each request becomes its entry in its id's shard: a schedule, a series, a reschedule, a cancel, and a rejection as a no-op")
    func entries() throws {
        let batch = IngestBatch(
            [
                Self.polled(5, [("tock-topic", "out"), ("tock-at", "1005000"), ("tock-id", "a")]),
                Self.polled(6, [("tock-topic", "out2"), ("tock-every", "1s"), ("tock-id", "s")]),
                Self.polled(7, [("tock-topic", "out"), ("tock-delay", "5s"), ("tock-id", "a"), ("tock-action", "reschedule")]),
                Self.polled(8, [("tock-id", "a"), ("tock-action", "cancel")]),
                Self.polled(9, [("tock-topic", "out")]),
            ], watermarks: [:], nowMillis: Self.now, shardMap: Self.shardMap, rejectedTopic: "rej")
        let all = batch.entries.values.joined().sorted { $0.offset < $1.offset }
        #expect(all.map(\.operation) == [.schedule, .scheduleSeries, .reschedule, .cancel, .noop])
        #expect(all.map(\.id) == ["a", "s", "a", "a", "in/0/9"])
        #expect(all.map(\.dueMillis) == [1_005_000, all[1].dueMillis, 1_005_000, 0, 0])
        #expect(all.map { $0.tombstone != nil } == [true, true, true, true, false])
        for (shard, entries) in batch.entries { #expect(entries.allSatisfy { Self.shardMap.shard(of: $0.id) == shard }) }
        let stored = try MessageCodec.decode(all[0].blob, id: "a")
        #expect(stored.storedMillis == Self.now && stored.topic == "out")
        #expect(batch.outputTopics == ["out", "out2"])
        #expect(batch.rejectionCodes == [RejectionCode.missingTime.rawValue])
        #expect(batch.rejections.map(\.topic) == ["rej"] && batch.rejections[0].value == Array("p9".utf8))
        #expect(batch.nextOffsets == [KafkaTopicPartition(topic: "in", partition: 0): 10])
    }

    @Test("a request without tock-id takes its record's source as id, with the generation of a recreated partition")
    func defaultIDs() {
        let requests = [
            Self.polled(3, partition: 1, [("tock-topic", "out"), ("tock-delay", "1s")]),
            Self.polled(4, partition: 2, [("tock-topic", "out"), ("tock-delay", "1s")]),
        ]
        let watermarks = ["in/1": BatchWatermark(generation: 2, topicID: nil, offset: 3, fingerprint: "f")]
        let batch = IngestBatch(requests, watermarks: watermarks, nowMillis: Self.now, shardMap: Self.shardMap, rejectedTopic: "rej")
        let all = batch.entries.values.joined().sorted { $0.offset < $1.offset }
        #expect(all.map(\.id) == ["in/1/3~2", "in/2/4"])
        #expect(all.allSatisfy { $0.tombstone == nil })
        #expect(batch.nextOffsets == [KafkaTopicPartition(topic: "in", partition: 1): 4, KafkaTopicPartition(topic: "in", partition: 2): 5])
    }

    @Test("the wheel takes what was claimed at once and drops what was cancelled or rescheduled away; other outcomes change nothing")
    func wheelChanges() {
        let requests = (0..<4).map { Self.polled(Int64($0), [("tock-topic", "out"), ("tock-at", "1005000"), ("tock-id", "x\($0)")]) }
        let batch = IngestBatch(requests, watermarks: [:], nowMillis: Self.now, shardMap: Self.shardMap, rejectedTopic: "rej")
        let byID: [String: StoreOutcome] = ["x0": .claimed, "x1": .rescheduled, "x2": .stored, "x3": .cancelled]
        let outcomes = batch.entries.mapValues { $0.map { byID[$0.id]! } }
        let changes = batch.wheelChanges(outcomes)
        #expect(changes.insert.map(\.id) == ["x0"] && changes.insert.map(\.dueMillis) == [1_005_000])
        #expect(Set(changes.remove) == ["x1", "x3"])
    }

    @Test("an assignment: a shard unassigned is lost, a new one gained, one at a new epoch both, one unchanged neither")
    func assignmentChange() {
        let owned = [0: ShardOwnership(worker: "w", epoch: 1), 1: ShardOwnership(worker: "w", epoch: 1), 2: ShardOwnership(worker: "w", epoch: 1)]
        let change = AssignmentChange(owned: owned, assigned: [1: 1, 2: 5, 7: 3, 4: 2], worker: "w")
        #expect(change.lost == [0, 2])
        #expect(change.gained.map(\.shard) == [2, 4, 7])
        #expect(
            change.gained.map(\.owner) == [
                ShardOwnership(worker: "w", epoch: 5), ShardOwnership(worker: "w", epoch: 2), ShardOwnership(worker: "w", epoch: 3),
            ])
        let same = AssignmentChange(owned: owned, assigned: [0: 1, 1: 1, 2: 1], worker: "w")
        #expect(same.lost.isEmpty && same.gained.isEmpty)
    }
}
