import Testing
import TockCore
import TockKafka
import TockStore

@testable import TockWorkerKit

@Suite("The cold tier's decisions: which requests are cold, which partitions a worker reads, what a polled batch becomes, the move pace")
struct ColdDecisionsTests {
    static let now: Int64 = 1_796_000_000_000

    /// The rings the end-to-end tests run: hot horizon 3 s, hour slots 2 s, day slots 10 s.
    static let topics: ColdTopics = {
        var configuration = TockConfiguration()
        configuration.wheel.lookaheadMillis = 1_000
        configuration.store.hotHorizonMillis = 3_000
        configuration.store.coldHourSlotMillis = 2_000
        configuration.store.coldDaySlotMillis = 10_000
        configuration.limits.maxHorizonMillis = 60_000
        configuration.store.shards = 4
        return ColdTopics(configuration: configuration)
    }()

    static func polled(_ offset: Int64, _ headers: [(String, String)]) -> PolledRequest {
        IngestDecisionsTests.polled(offset, headers, nowMillis: now)
    }

    @Test("a schedule or reschedule due beyond the hot horizon is cold: its record goes to its ring first; series and near ones stay hot")
    func ingestRouting() throws {
        let batch = IngestBatch(
            [
                Self.polled(1, [("tock-topic", "out"), ("tock-at", "\(Self.now + 3_000)"), ("tock-id", "near")]),
                Self.polled(2, [("tock-topic", "out"), ("tock-at", "\(Self.now + 3_001)"), ("tock-id", "hour")]),
                Self.polled(3, [("tock-topic", "out"), ("tock-at", "\(Self.now + 30_000)"), ("tock-id", "day")]),
                Self.polled(4, [("tock-topic", "out"), ("tock-at", "\(Self.now + 5_000)"), ("tock-id", "near"), ("tock-action", "reschedule")]),
                Self.polled(5, [("tock-topic", "out"), ("tock-every", "20s"), ("tock-id", "series")]),
            ], watermarks: [:], nowMillis: Self.now, shardMap: ShardMap(shardCount: 4), rejectedTopic: "rej", cold: Self.topics)
        let all = batch.entries.values.joined().sorted { $0.offset < $1.offset }
        #expect(all.map(\.operation) == [.schedule, .scheduleCold, .scheduleCold, .rescheduleCold, .scheduleSeries])
        #expect(all.map { $0.coldVersion != nil } == [false, true, true, true, false])
        #expect(all[1].blob.isEmpty && !all[3].blob.isEmpty, "a cold schedule's blob is in Kafka only; a cold reschedule keeps it")
        #expect(batch.coldRecords.map(\.topic) == ["tock.cold.hours", "tock.cold.days", "tock.cold.hours"])
        let written = try #require(
            ColdTopics.coldRecord(
                KafkaConsumerMessage(
                    topic: "tock.cold.days", partition: 0, offset: 0, key: batch.coldRecords[1].key, value: batch.coldRecords[1].value,
                    headers: batch.coldRecords[1].headers, timestamp: nil)))
        #expect(written.id == "day" && written.dueMillis == Self.now + 30_000 && written.version == ColdRecord.version(source: "in/0/3"))
        #expect(try MessageCodec.decode(written.blob, id: "day").topic == "out")
        #expect(batch.coldRecords[1].partition == Self.topics.layout.dayPartition(slot: (Self.now + 30_000) / 10_000))
    }

    @Test("a worker reads the hour partitions of its own shards' open slots, and the day partitions its shards keep")
    func readPlan() {
        let layout = Self.topics.layout
        let reads = ColdReadPlan.reads(topics: Self.topics, ownedShards: [0, 2], nowMillis: Self.now)
        let hourSlots = layout.openHourSlots(nowMillis: Self.now)
        #expect(!hourSlots.isEmpty)
        #expect(
            Set(reads.filter { $0.kind == .move }.map(\.partition))
                == Set(hourSlots.flatMap { slot in [0, 2].map { layout.hourPartition(slot: slot, shard: $0) } }))
        #expect(reads.allSatisfy { Int($0.partition) % layout.shards == $0.shard })
        let days = Set(layout.openDaySlots(nowMillis: Self.now).map { layout.dayPartition(slot: $0) })
        #expect(Set(reads.filter { $0.kind == .copy }.map(\.partition)) == days.filter { [0, 2].contains(Int($0) % layout.shards) })
        #expect(ColdReadPlan.reads(topics: Self.topics, ownedShards: [], nowMillis: Self.now).isEmpty)
    }

    @Test("every cold message is read from its hour partition before it is due within the wheel's lookahead, by whichever shard owns it")
    func everyMessageReadInTime() {
        var generator = SplitMix64(seed: 27)
        let layout = Self.topics.layout
        for _ in 0..<500 {
            let accepted = Self.now + Int64(generator.next() % 60_000)
            let due = accepted + 3_001 + Int64(generator.next() % 50_000)
            let shard = Int(generator.next() % 4)
            guard case .hours = layout.tier(dueMillis: due, nowMillis: accepted, shard: shard) else { continue }
            let partition = layout.hourPartition(dueMillis: due, shard: shard)
            let read = stride(from: accepted, through: due - 1_000, by: 100).contains { time in
                ColdReadPlan.reads(topics: Self.topics, ownedShards: [shard], nowMillis: time).contains {
                    $0.kind == .move && $0.partition == partition
                }
            }
            #expect(read, "due \(due - accepted) ms after acceptance: partition \(partition) never read in time")
        }
    }

    @Test("a polled batch: moves per shard with their positions, copies apart, records from before the read position and unknown partitions left out")
    func batch() {
        let hours = ColdRead(topic: "tock.cold.hours", partition: 5, kind: .move, shard: 1)
        let days = ColdRead(topic: "tock.cold.days", partition: 6, kind: .copy, shard: 2)
        func message(_ read: ColdRead, _ offset: Int64, id: String?) -> KafkaConsumerMessage {
            let record = ColdRecord(id: id ?? "", dueMillis: Self.now + 10_000, version: 9, blob: [1])
            return KafkaConsumerMessage(
                topic: read.topic, partition: read.partition, offset: offset, key: id.map { Array($0.utf8) }, value: [1],
                headers: [KafkaHeader(key: ColdRecord.header, value: record.headerValue)],
                timestamp: KafkaTimestamp(milliseconds: Self.now, kind: .createTime))
        }
        let other = ColdRead(topic: "tock.cold.hours", partition: 9, kind: .move, shard: 1)
        let batch = ColdBatch(
            [
                message(hours, 3, id: "old"), message(hours, 10, id: "a"), message(hours, 11, id: nil), message(days, 7, id: "b"),
                message(other, 1, id: "c"),
            ],
            assigned: [hours: 10, days: 0], shardMap: ShardMap(shardCount: 4), nowMillis: Self.now + 5)
        #expect(batch.moves[1]?.records.map(\.record.id) == ["a"])
        #expect(batch.moves[1]?.positions == ["tock.cold.hours/5": 12])
        #expect(batch.copies[2]?.records.map(\.record.id) == ["b"])
        #expect(batch.copies[2]?.positions == ["tock.cold.days/6": 8])
        #expect(batch.nextOffsets == [hours: 12, days: 8])
        #expect(batch.unreadable == 1)
        #expect(batch.moves[1]?.records.first?.seenMillis == Self.now + 5)
        #expect(batch.moves[1]?.records.first.map { ($0.field, $0.offset) } ?? ("", 0) == ("tock.cold.hours/5", 10))

        // A record being retried holds its partition's recorded position back to it.
        var reading = ColdReading()
        reading.retries = batch.moves[1]?.records ?? []
        #expect(reading.held(["tock.cold.hours/5": 12, "tock.cold.hours/6": 3]) == ["tock.cold.hours/5": 10, "tock.cold.hours/6": 3])
    }

    @Test("the move pace holds a worker to its rate per second")
    func pacer() {
        var pacer = MovePacer(perSecond: 100)
        #expect(pacer.note(60, nowMillis: 1_000) == nil)
        #expect(pacer.note(60, nowMillis: 1_100) == 900)
        #expect(pacer.note(30, nowMillis: 2_000) == nil)
        #expect(pacer.note(10, nowMillis: 3_500) == nil)
    }
}
