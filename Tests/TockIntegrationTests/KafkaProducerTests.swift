import Foundation
import Testing
import TockKafka

@Suite struct KafkaProducerTests {
    @Test func messageLargerThanMessageMaxBytesThrowsMsgSizeTooLarge() async throws {
        let producer = try KafkaTestSupport.producer("too-large", properties: ["message.max.bytes": "2000"])
        let topic = TestStack.unique("kafka-too-large")
        let record = KafkaProducerRecord(topic: topic, value: Array(repeating: 0x61, count: 10_000))
        do {
            let report = try await producer.send(record)
            Issue.record("a 10 KB record was delivered despite message.max.bytes=2000: \(report)")
        } catch {
            #expect(error.code == .messageSizeTooLarge, "\(error)")
            #expect(error.name == "MSG_SIZE_TOO_LARGE")
            #expect(!error.isRetriable)
            #expect(!error.isFatal)
            #expect(error.refusedBeforeSending && error.rejectsRecord, "\(error)")
        }
        // The failure is per record: a small one on the same producer still goes through.
        let report = try await producer.send(KafkaProducerRecord(topic: topic, value: [1, 2, 3]))
        #expect(report.offset >= 0)
        await producer.shutdown()
    }

    @Test func deliveryReportErrorForUnknownPartitionIsThrown() async throws {
        let producer = try KafkaTestSupport.producer("unknown-partition", properties: ["message.timeout.ms": "5000"])
        let topic = TestStack.unique("kafka-unknown-partition")
        // Creates the topic (the broker auto-creates on produce), so its partition count is known.
        _ = try await producer.send(KafkaProducerRecord(topic: topic, value: [0]))
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let report = try await producer.send(KafkaProducerRecord(topic: topic, partition: 999, value: [1]))
            Issue.record("a record to partition 999 was delivered: \(report)")
        } catch {
            #expect(error.code == .unknownPartition, "\(error)")
            #expect(!error.isRetriable)
            #expect(!error.rejectsRecord)
        }
        #expect(clock.now - start < .seconds(6))
        await producer.shutdown()
    }

    @Test func deliveryTimeoutToUnreachableBrokerIsRetriable() async throws {
        let producer = try KafkaTestSupport.producer("timeout", brokers: "127.0.0.1:1", properties: ["message.timeout.ms": "1000"], level: .critical)
        let results = await producer.send((0..<3).map { KafkaProducerRecord(topic: "kafka-timeout", value: [UInt8($0)]) })
        #expect(results.count == 3)
        for result in results {
            #expect(throws: KafkaError.self) { try result.get() }
            if case .failure(let error) = result {
                #expect(error.code == .messageTimedOut, "\(error)")
                #expect(error.isRetriable)
                #expect(!error.rejectsRecord)
            }
        }
        await producer.shutdown(timeout: .milliseconds(100))
    }

    @Test func batchOf5000ReturnsSuccessesWithIncreasingOffsetsPerPartition() async throws {
        let producer = try KafkaTestSupport.producer("batch")
        let topic = TestStack.unique("kafka-batch")
        let records = (0..<5000).map { index in
            KafkaProducerRecord(topic: topic, key: KafkaTestSupport.bytes("key-\(index % 17)"), value: KafkaTestSupport.bytes("value-\(index)"))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let results = await producer.send(records)
        let elapsed = clock.now - start
        #expect(results.count == 5000)
        var lastOffset: [Int32: Int64] = [:]
        var failures = 0
        for result in results {
            switch result {
            case .success(let report):
                #expect(report.topic == topic)
                #expect(report.offset >= 0)
                #expect(report.offset > lastOffset[report.partition, default: -1], "offsets go backwards in partition \(report.partition)")
                lastOffset[report.partition] = report.offset
                #expect(report.timestamp?.kind == .createTime)
            case .failure(let error):
                failures += 1
                if failures < 5 { Issue.record("record failed: \(error)") }
            }
        }
        #expect(failures == 0)
        #expect(lastOffset.count > 1, "records with 17 keys should spread over the auto-created partitions")
        print("KafkaProducerTests: 5000 records delivered in \(elapsed)")
        await producer.shutdown()
    }

    @Test func fullQueueIsWaitedOutNotFailed() async throws {
        let producer = try KafkaTestSupport.producer("queue-full", properties: ["queue.buffering.max.messages": "50"])
        let topic = TestStack.unique("kafka-queue-full")
        let records = (0..<1000).map { KafkaProducerRecord(topic: topic, partition: 0, value: KafkaTestSupport.bytes("v\($0)")) }
        let results = await producer.send(records)
        let offsets = try results.map { try $0.get().offset }
        #expect(offsets == offsets.sorted())
        #expect(Set(offsets).count == 1000)
        await producer.shutdown()
    }

    @Test func explicitTimestampIsKeptAndDefaultIsTheSendTime() async throws {
        let producer = try KafkaTestSupport.producer("timestamp")
        let topic = TestStack.unique("kafka-timestamp")
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let stamped = try await producer.send(KafkaProducerRecord(topic: topic, value: [1]))
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        let milliseconds = try #require(stamped.timestamp?.milliseconds)
        #expect(milliseconds >= before && milliseconds <= after)
        let explicit = try await producer.send(KafkaProducerRecord(topic: topic, value: [2], timestamp: 1_700_000_000_123))
        #expect(explicit.timestamp == KafkaTimestamp(milliseconds: 1_700_000_000_123, kind: .createTime))
        await producer.shutdown()
    }

    @Test func sendAfterShutdownFailsAndShutdownIsIdempotent() async throws {
        let producer = try KafkaTestSupport.producer("shutdown")
        let topic = TestStack.unique("kafka-shutdown")
        let pending = Task { await producer.send((0..<200).map { KafkaProducerRecord(topic: topic, value: [UInt8($0 % 256)]) }) }
        let results = await pending.value
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        try await producer.flush(timeout: .seconds(5))
        await producer.shutdown()
        await producer.shutdown()
        await #expect(throws: KafkaError.self) { try await producer.send(KafkaProducerRecord(topic: topic, value: [1])) }
        await #expect(throws: KafkaError.self) { try await producer.flush() }
    }
}
