import Testing
import TockKafka

@Suite struct KafkaConsumerTests {
    @Test func recordsWithHeadersRoundTripAndCommittedOffsetsAreResumedFrom() async throws {
        let topic = TestStack.unique("kafka-roundtrip")
        let group = TestStack.unique("kafka-roundtrip-group")
        let producer = try KafkaTestSupport.producer("roundtrip-producer")

        let binary: [UInt8] = Array(0...255) + [0, 0, 255]
        let first = [
            KafkaProducerRecord(
                topic: topic, partition: 0, key: [0, 1, 2, 0xFF],
                value: binary,
                headers: [
                    KafkaHeader(key: "tock-topic", string: "out"),
                    KafkaHeader(key: "null-value", value: nil),
                    KafkaHeader(key: "binary", value: [0, 0xFF, 0, 0x80]),
                    KafkaHeader(key: "tock-topic", string: "second, same key"),
                    KafkaHeader(key: "empty", value: []),
                ]
            ),
            KafkaProducerRecord(topic: topic, partition: 0, key: nil, value: KafkaTestSupport.bytes("no key, no headers")),
            KafkaProducerRecord(topic: topic, partition: 0, key: [], value: [0], headers: [KafkaHeader(key: "ü-ñ", string: "Grüße")]),
        ]
        for record in first { _ = try await producer.send(record) }

        let consumer = try KafkaTestSupport.consumer("roundtrip-consumer", groupId: group, topics: [topic])
        let received = try await KafkaTestSupport.poll(consumer, count: first.count)
        try #require(received.count == first.count)
        for (record, message) in zip(first, received) {
            #expect(message.topic == topic)
            #expect(message.partition == 0)
            #expect(message.key == record.key)
            #expect(message.value == record.value)
            #expect(message.headers == record.headers)
            #expect(message.timestamp?.kind == .createTime)
        }
        #expect(received.map(\.offset) == [0, 1, 2])

        try consumer.storeOffsets(received.map(\.nextOffset))
        try await consumer.commit()
        try await consumer.commit()  // nothing new stored: _NO_OFFSET is success
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        #expect(try await consumer.committed([partition]) == [partition: 3])
        #expect(try await consumer.lowWatermark(topic: topic, partition: 0) == 0)
        await consumer.close()
        await #expect(throws: KafkaError.self) { _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(10)) }

        let second = (0..<2).map { KafkaProducerRecord(topic: topic, partition: 0, value: KafkaTestSupport.bytes("after commit \($0)")) }
        for record in second { _ = try await producer.send(record) }

        let resumed = try KafkaTestSupport.consumer("roundtrip-consumer-2", groupId: group, topics: [topic])
        let rest = try await KafkaTestSupport.poll(resumed, count: second.count)
        #expect(rest.map(\.offset) == [3, 4])
        #expect(rest.map(\.value) == second.map(\.value))
        let extra = try await resumed.poll(maxMessages: 10, timeout: .milliseconds(500))
        #expect(extra.isEmpty)
        await resumed.close()
        await producer.shutdown()
    }

    @Test("a null value and an empty value are produced and consumed apart, through send and enqueue")
    func nullAndEmptyValuesStayApart() async throws {
        let topic = TestStack.unique("kafka-null-value")
        let producer = try KafkaTestSupport.producer("null-value-producer")
        let values: [[UInt8]?] = [nil, [], [0], nil]
        let records = values.map { KafkaProducerRecord(topic: topic, partition: 0, key: [1], value: $0) }
        _ = try await producer.send(Array(records.prefix(2))).map { try $0.get() }
        _ = try await producer.enqueue(Array(records.suffix(2))).results().map { try $0.get() }
        let consumer = try KafkaTestSupport.consumer("null-value-consumer", groupId: TestStack.unique("kafka-null-value-group"), topics: [topic])
        let received = try await KafkaTestSupport.poll(consumer, count: values.count)
        #expect(received.map(\.value) == values)
        await consumer.close()
        await producer.shutdown()
    }

    @Test func seekRereadsFromAnEarlierOffset() async throws {
        let topic = TestStack.unique("kafka-seek")
        let producer = try KafkaTestSupport.producer("seek-producer")
        let records = (0..<5).map { KafkaProducerRecord(topic: topic, partition: 1, value: [UInt8($0)]) }
        _ = try await producer.send(records).map { try $0.get() }
        let consumer = try KafkaTestSupport.consumer("seek-consumer", groupId: TestStack.unique("kafka-seek-group"), topics: [topic])
        let all = try await KafkaTestSupport.poll(consumer, count: 5)
        #expect(all.map(\.value) == records.map(\.value))
        try await consumer.seek(KafkaTopicPartitionOffset(topic: topic, partition: 1, offset: 2))
        let again = try await KafkaTestSupport.poll(consumer, count: 3)
        #expect(again.map(\.offset) == [2, 3, 4])
        #expect(try consumer.position([KafkaTopicPartition(topic: topic, partition: 1)]) == [KafkaTopicPartition(topic: topic, partition: 1): 5])
        await consumer.close()
        await producer.shutdown()
    }

    @Test(arguments: ["range", "cooperative-sticky"])
    func rebalanceHandlerSeesAssignment(strategy: String) async throws {
        let topic = TestStack.unique("kafka-rebalance")
        try await KafkaTestSupport.createTopic(topic, partitions: 3, label: "rebalance-admin")

        let events = KafkaEventLog<KafkaRebalanceEvent>()
        var properties = KafkaTestSupport.consumerProperties
        properties["partition.assignment.strategy"] = strategy
        let consumer = try KafkaTestSupport.consumer(
            "rebalance-consumer", groupId: TestStack.unique("kafka-rebalance-group"), topics: [topic], properties: properties,
            rebalanceHandler: { events.append($0) })
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(15))
        while !events.all.contains(where: { $0.kind == .assigned }) && clock.now < deadline {
            _ = try await consumer.poll(maxMessages: 10, timeout: .milliseconds(200))
        }
        let assigned = try #require(events.all.first { $0.kind == .assigned })
        let expected = (0..<3).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        #expect(Set(assigned.partitions) == Set(expected))
        #expect(assigned.rebalanceProtocol == (strategy == "cooperative-sticky" ? .cooperative : .eager))
        #expect(Set(try consumer.assignment()) == Set(expected))

        await consumer.close()
        let revoked = events.all.filter { $0.kind == .revoked }.flatMap(\.partitions)
        #expect(Set(revoked) == Set(expected), "leaving the group revokes everything")
    }
}

@Suite struct KafkaLifecycleTests {
    /// Releasing clients without shutdown/close must neither crash nor hang: deinit hands the
    /// blocking teardown to the client's own thread.
    @Test func clientsReleasedWithoutClosingTearDownSafely() async throws {
        let topic = TestStack.unique("kafka-deinit")
        do {
            let producer = try KafkaTestSupport.producer("deinit-producer")
            _ = try await producer.send(KafkaProducerRecord(topic: topic, value: [1]))
            _ = await producer.send((0..<100).map { KafkaProducerRecord(topic: topic, value: [UInt8($0)]) })
        }
        do {
            let consumer = try KafkaTestSupport.consumer("deinit-consumer", groupId: TestStack.unique("kafka-deinit-group"), topics: [topic])
            _ = try await consumer.poll(maxMessages: 10, timeout: .milliseconds(100))
        }
        do {
            let admin = try KafkaTestSupport.admin("deinit-admin")
            _ = try await admin.partitionCount(topic: topic)
        }
        // A fresh client still works afterwards.
        let producer = try KafkaTestSupport.producer("deinit-after")
        #expect(try await producer.send(KafkaProducerRecord(topic: topic, value: [2])).offset >= 0)
        await producer.shutdown()
    }
}
