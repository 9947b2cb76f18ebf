import Foundation
import Testing
import TockCore
import TockKafka
import TockStore

/// SPEC.md's rules, end to end, through real `tock-worker` processes on the real broker and Redis.
@Suite("Worker end to end", .serialized)
struct WorkerEndToEndTests {
    @Test("a schedule is published at its due time, never before, byte for byte with the SPEC headers")
    func outputRecord() async throws {
        try await WorkerScenario.withWorker("output") { s, worker, out in
            let binary: [UInt8] = Array(0...255) + [0, 0, 13, 10]
            let due = WorkerScenario.now + 2_000
            try await s.send([
                s.request(
                    id: "bin", at: due, key: "key-1", value: binary,
                    headers: [KafkaHeader(key: "a", string: "1"), KafkaHeader(key: "nul", value: nil), KafkaHeader(key: "a", string: "2")]),
                s.request(id: "keyed", at: due, headers: [KafkaHeader(key: "tock-key", string: "override")]),
            ])
            let arrivals = await out.wait(for: 2, on: s.outputTopic, within: .seconds(20))
            #expect(arrivals.count == 2)
            let bin = try #require(arrivals.first { $0.header("tock-id") == "bin" })
            #expect(bin.message.value == binary)
            #expect(bin.message.key == Array("key-1".utf8))
            #expect(bin.message.headers.map(\.key) == ["a", "nul", "a", "tock-id", "tock-at", "tock-attempt"])
            #expect(bin.message.headers[1].value == nil)
            #expect(bin.header("tock-at") == String(due))
            #expect(bin.header("tock-attempt") == "1")
            for arrival in arrivals {
                let stamp = try #require(arrival.message.timestamp?.milliseconds)
                #expect(stamp >= due, "published \(due - stamp) ms early")
            }
            #expect(arrivals.first { $0.header("tock-id") == "keyed" }?.message.key == Array("override".utf8))
            await worker.expectCleanExit()
        }
    }

    @Test("with delivery.publishedHeader and two output producers, every record arrives once with tock-published-us at or after its due time")
    func publishedHeaderThroughProducerPool() async throws {
        try await WorkerScenario.withWorker("published", env: ["TOCK_DELIVERY_PUBLISHED_HEADER": "true", "TOCK_KAFKA_OUTPUT_PRODUCERS": "2"]) {
            s, worker, out in
            let due = WorkerScenario.now + 2_000
            try await s.send((0..<40).map { s.request(id: "p\($0)", at: due + Int64($0 * 10), key: "key-\($0)") })
            let arrivals = await out.wait(for: 40, on: s.outputTopic, within: .seconds(20))
            #expect(Set(arrivals.compactMap { $0.header("tock-id") }).count == 40)
            #expect(arrivals.count == 40)
            for arrival in arrivals {
                let at = try #require(arrival.header("tock-at").flatMap { Int64($0) })
                let published = try #require(arrival.header("tock-published-us").flatMap { Int64($0) })
                #expect(published >= at * 1000, "handed to the producer \(at * 1000 - published) µs early")
                // The time of the hand-off, as the record's CreateTime is (not, say, the store time):
                // both are taken from one clock in one step. How late that is is the benchmarks' to say.
                let stamp = try #require(arrival.message.timestamp?.milliseconds)
                #expect(abs(published / 1_000 - stamp) <= 100, "tock-published-us \(published), CreateTime \(stamp)")
                #expect(arrival.message.headers.map(\.key).suffix(2) == ["tock-attempt", "tock-published-us"])
            }
            await worker.expectCleanExit()
        }
    }

    @Test("tock-delay counts from the request record's timestamp; a due time in the past fires at once")
    func delayFromRecordTimestamp() async throws {
        try await WorkerScenario.withWorker("delay") { s, worker, out in
            // "At once" counts from when the worker reads the request, so it must be reading already.
            try await s.warmUp(try await s.store())
            let now = WorkerScenario.now
            try await s.send([
                s.request(id: "old-delay", delay: "3s", timestamp: now - 2_000),  // due now + 1 s
                s.request(id: "past", at: now - 60_000),
            ])
            let arrivals = await out.wait(for: 2, on: s.outputTopic, within: .seconds(20))
            let delayed = try #require(arrivals.first { $0.header("tock-id") == "old-delay" })
            #expect(delayed.header("tock-at") == String(now + 1_000))
            #expect(try #require(delayed.message.timestamp?.milliseconds) >= now + 1_000)
            // Published at about now + 1 s: counted from the record's timestamp, not from when it was read.
            #expect(try #require(delayed.message.timestamp?.milliseconds) < now + 2_500)
            let past = try #require(arrivals.first { $0.header("tock-id") == "past" })
            #expect(try #require(past.message.timestamp?.milliseconds) - now < 2_000)
        }
    }

    @Test("every rejection code lands in tock.rejected with its reason, and the partition keeps flowing")
    func rejections() async throws {
        let s = try await WorkerScenario("reject")
        let worker = try await s.startWorker(env: [
            "TOCK_OUTPUT_ALLOWED_TOPICS": "out-*", "TOCK_LIMITS_MAX_PAYLOAD_BYTES": "100", "TOCK_LIMITS_MAX_HORIZON": "1d",
        ])
        defer { Task { await worker.kill9() } }
        let out = try await s.collect([s.outputTopic, s.rejectedTopic])
        let now = WorkerScenario.now
        let bad: [(String, KafkaProducerRecord)] = [
            (
                "missing-topic",
                KafkaProducerRecord(topic: s.inputTopic, partition: 0, value: [1], headers: [KafkaHeader(key: "tock-at", string: "\(now)")])
            ),
            ("missing-time", s.request(partition: 0)),
            ("both-times", s.request(at: now, delay: "1s", partition: 0)),
            ("bad-time", s.request(delay: "soon", partition: 0)),
            ("horizon", s.request(delay: "2d", partition: 0)),
            ("payload-too-large", s.request(at: now, value: [UInt8](repeating: 7, count: 101), partition: 0)),
            ("topic-not-allowed", s.request(at: now, topic: "elsewhere", partition: 0)),
            ("topic-not-allowed", s.request(at: now, topic: "tock.dead", partition: 0)),
            ("bad-id", s.request(id: "has space", at: now, partition: 0)),
            ("bad-action", s.request(at: now, action: "later", partition: 0)),
        ]
        // Good records behind the bad ones in the same partition.
        try await s.send(bad.map(\.1) + [s.request(id: "after-1", at: now, partition: 0), s.request(id: "after-2", at: now + 500, partition: 0)])
        let rejected = await out.wait(for: bad.count, on: s.rejectedTopic, within: .seconds(20))
        #expect(rejected.map { $0.header("tock-error") ?? "" }.sorted() == bad.map(\.0).sorted())
        for arrival in rejected {
            #expect(!(arrival.header("tock-error-detail") ?? "").isEmpty)
            #expect(arrival.header("tock-source")?.hasPrefix("\(s.inputTopic)/0/") == true)
        }
        let missingTopic = try #require(rejected.first { $0.header("tock-error") == "missing-topic" })
        #expect(missingTopic.message.value == [1])
        #expect(missingTopic.message.headers.first?.key == "tock-at")
        let flowed = await out.wait(for: 2, on: s.outputTopic, within: .seconds(20))
        #expect(Set(flowed.compactMap { $0.header("tock-id") }) == ["after-1", "after-2"])
        await out.stop()
    }

    @Test("a request for __consumer_offsets or another __ topic is topic-not-allowed even under *, and the worker writes nothing there")
    func internalTopicRequestsRejected() async throws {
        let s = try await WorkerScenario("internal")
        let ownInternal = "__\(s.outputTopic)"
        // The broker may create __consumer_offsets only on first use; the collector must find it
        // at its start to see a record the worker might write there.
        try await s.createTopics([("__consumer_offsets", 4), (ownInternal, 1)])
        try await s.withWorker(env: ["TOCK_OUTPUT_ALLOWED_TOPICS": "*"]) { worker in
            let out = try await s.collect([s.outputTopic, s.rejectedTopic, "__consumer_offsets", ownInternal])
            let now = WorkerScenario.now
            let internalIDs: Set = ["\(s.name)-offsets", "\(s.name)-moved", "\(s.name)-own"]
            try await s.send([
                s.request(id: "\(s.name)-offsets", at: now, topic: "__consumer_offsets", partition: 0),
                s.request(id: "\(s.name)-moved", at: now, topic: "__consumer_offsets", action: "reschedule", partition: 0),
                s.request(id: "\(s.name)-own", at: now, topic: ownInternal, partition: 0),
                s.request(id: "\(s.name)-after", at: now, partition: 0),
            ])
            let rejected = await out.wait(for: internalIDs.count, on: s.rejectedTopic, within: .seconds(20))
            #expect(Set(rejected.compactMap { $0.header("tock-id") }) == internalIDs)
            #expect(rejected.allSatisfy { $0.header("tock-error") == "topic-not-allowed" })
            // The request behind them fired, so the worker has handled all of them.
            #expect(await out.wait(for: 1, on: s.outputTopic, within: .seconds(20)).first?.header("tock-id") == "\(s.name)-after")
            await out.settle(on: "__consumer_offsets")
            let written = (out.on("__consumer_offsets") + out.on(ownInternal)).compactMap { $0.header("tock-id") }
            #expect(Set(written).isDisjoint(with: internalIDs), "the worker wrote \(written) to an internal topic")
            await out.stop()
            await worker.expectCleanExit()
        }
    }

    @Test("a message for a __ topic stored before such topics were refused is dead-lettered with topic-not-allowed, never published")
    func storedInternalTopicDeadLettered() async throws {
        let s = try await WorkerScenario("stored-internal")
        let internalTopic = "__\(s.outputTopic)"
        try await s.createTopics([(internalTopic, 1)])
        let store = try await s.store()
        let message = ScheduledMessage(
            id: "\(s.name)-old", idWasGiven: true, dueMillis: WorkerScenario.now, topic: internalTopic,
            key: nil, value: [1], headers: [])
        let entry = StoreEntry(
            operation: .schedule, topicPartition: "\(s.inputTopic)/0", offset: 0, id: message.id,
            tombstone: Tombstone(id: message.id), dueMillis: message.dueMillis, blob: MessageCodec.encode(message))
        _ = try await store.store([store.shardMap.shard(of: message.id): [entry]], nowMillis: WorkerScenario.now)
        let out = try await s.collect([s.deadTopic, internalTopic])
        try await s.withWorker { worker in
            let dead = try #require(await out.wait(for: 1, on: s.deadTopic, within: .seconds(20)).first)
            #expect(dead.header("tock-id") == message.id)
            #expect(dead.header("tock-error") == "topic-not-allowed")
            #expect(dead.header("tock-topic") == internalTopic)
            #expect(dead.message.value == [1])
            await out.settle(on: internalTopic)
            #expect(out.on(internalTopic).isEmpty)
            await out.stop()
            await store.client.close()
            await worker.expectCleanExit()
        }
    }

    @Test("tock schedule refuses a reserved --topic and an internal --input-topic in its argument validation, before connecting")
    func cliRefusesReservedTopics() async throws {
        let s = try await WorkerScenario("cli-internal")
        for (topic, inputTopic) in [("__consumer_offsets", s.inputTopic), ("tock.dead", s.inputTopic), (s.outputTopic, "__\(s.inputTopic)")] {
            let arguments = ["schedule", "--delay", "1s", "--topic", topic, "--input-topic", inputTopic, "payload"]
            let process = Process()
            process.executableURL = WorkerProcessHandle.binary("tock")
            process.arguments = arguments
            process.environment = s.environment(workerID: "cli")
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0, "tock schedule \(arguments) exited 0: \(text)")
            #expect(text.contains("is reserved"), "\(text)")
        }
    }

    @Test("a null value stays null and an empty one empty: published, rescheduled, dead-lettered and rejected")
    func nullAndEmptyValues() async throws {
        let s = try await WorkerScenario("null-value")
        // A message that can only be dead-lettered: stored for a topic that is now refused.
        let store = try await s.store()
        let dead = ScheduledMessage(
            id: "\(s.name)-dead", idWasGiven: true, dueMillis: WorkerScenario.now, topic: "__\(s.outputTopic)",
            key: nil, value: nil, headers: [])
        let entry = StoreEntry(
            operation: .schedule, topicPartition: "\(s.inputTopic)/0", offset: 0, id: dead.id,
            tombstone: Tombstone(id: dead.id), dueMillis: dead.dueMillis, blob: MessageCodec.encode(dead))
        _ = try await store.store([store.shardMap.shard(of: dead.id): [entry]], nowMillis: WorkerScenario.now)
        try await s.withWorker { worker in
            let out = try await s.collect([s.outputTopic, s.rejectedTopic, s.deadTopic])
            let due = WorkerScenario.now + 1_000
            try await s.send([
                s.request(id: "null", at: due, value: nil),
                s.request(id: "empty", at: due, value: []),
                s.request(id: "moved-null", at: due + 60_000, value: [1]),
                s.request(id: "moved-null", at: due, value: nil, action: "reschedule"),
                s.request(id: "moved-empty", at: due + 60_000, value: nil),
                s.request(id: "moved-empty", at: due, value: [], action: "reschedule"),
                s.request(id: "rejected-null", value: nil),
                s.request(id: "rejected-empty", value: []),
            ])
            let published = await out.wait(for: 4, on: s.outputTopic, within: .seconds(20))
            let rejected = await out.wait(for: 2, on: s.rejectedTopic, within: .seconds(20))
            let deadLettered = await out.wait(for: 1, on: s.deadTopic, within: .seconds(20))
            func value(_ id: String, in arrivals: [OutputCollector.Arrival]) throws -> [UInt8]? {
                try #require(arrivals.first { $0.header("tock-id") == id }, "no \(id)").message.value
            }
            #expect(try value("null", in: published) == nil)
            #expect(try value("empty", in: published) == [])
            #expect(try value("moved-null", in: published) == nil)
            #expect(try value("moved-empty", in: published) == [])
            #expect(try value("rejected-null", in: rejected) == nil)
            #expect(try value("rejected-empty", in: rejected) == [])
            #expect(try value(dead.id, in: deadLettered) == nil)
            await out.stop()
            await store.client.close()
            await worker.expectCleanExit()
        }
    }

    @Test("a tock-id sent twice is delivered once; a cancel before its schedule wins; reschedule moves a message")
    func dedupCancelReschedule() async throws {
        try await WorkerScenario.withWorker("dedup") { s, worker, out in
            let now = WorkerScenario.now
            try await s.send([
                s.request(id: "twice", at: now + 1_000, value: [1]),
                s.request(id: "twice", at: now + 1_500, value: [2]),
                s.request(id: "cancel-first", action: "cancel"),
                s.request(id: "cancel-first", at: now + 1_000),
                s.request(id: "cancel-pending", at: now + 2_500),
                s.request(id: "cancel-pending", action: "cancel"),
                s.request(id: "moved", at: now + 30_000, value: [1]),
                s.request(id: "moved", at: now + 2_000, value: [9], action: "reschedule"),
                s.request(id: "marker", at: now + 4_000),
            ])
            let arrivals = await out.wait(for: 3, on: s.outputTopic, within: .seconds(20))
            try await Task.sleep(for: .seconds(1))
            let ids = out.on(s.outputTopic).compactMap { $0.header("tock-id") }.sorted()
            #expect(ids == ["marker", "moved", "twice"])
            #expect(arrivals.first { $0.header("tock-id") == "twice" }?.message.value == [1])
            let moved = try #require(arrivals.first { $0.header("tock-id") == "moved" })
            #expect(moved.message.value == [9])
            #expect(moved.header("tock-at") == String(now + 2_000))
        }
    }

    @Test("a failed delivery is retried with backoff, then dead-lettered with its error and attempt")
    func deadLetter() async throws {
        let s = try await WorkerScenario("dead")
        // A topic that does not exist, and that the broker may not create, fails every attempt
        // with an unknown-topic error: transient, since the topic may be created meanwhile.
        let config = """
            kafka:
              producerProperties:
                allow.auto.create.topics: "false"
                topic.metadata.propagation.max.ms: "100"
            delivery:
              maxAttempts: 3
              backoff: {initial: 100ms, max: 300ms}
            """
        let missingTopic = "missing-\(s.name)"
        let port = try TestSocket.freePort()
        try await s.withWorker(env: ["TOCK_HTTP_PORT": "\(port)"], config: config) { worker in
            let out = try await s.collect([s.outputTopic, s.deadTopic])
            try await s.send([
                s.request(id: "nowhere", at: WorkerScenario.now, topic: missingTopic),
                s.request(id: "fine", at: WorkerScenario.now),
            ])
            let dead = await out.wait(for: 1, on: s.deadTopic, within: .seconds(20))
            let record = try #require(dead.first)
            #expect(record.header("tock-id") == "nowhere")
            #expect(record.header("tock-error") == "delivery-failed")
            #expect(record.header("tock-attempt") == "3")
            #expect(record.header("tock-topic") == missingTopic)
            #expect(record.header("tock-error-detail")?.contains("UNKNOWN_TOPIC") == true, "\(record.header("tock-error-detail") ?? "")")
            #expect(record.payload == "v")
            #expect(out.on(s.outputTopic).compactMap { $0.header("tock-id") } == ["fine"])
            #expect(worker.log.contains("delivery failed; retrying"))
            let metrics = try await MetricsScrape.get(port: port)
            #expect(metrics.value(#"tock_dead_letters_total{code="delivery-failed"}"#) == 1)
            #expect(metrics.value(#"tock_fired_total{result="retried"}"#) == 2)
            await out.stop()
        }
    }

    @Test("a record the broker can never accept goes to tock.dead on its first attempt, at once, and the one beside it is delivered")
    func rejectedRecordIsDeadLetteredAtOnce() async throws {
        let s = try await WorkerScenario("rejected")
        // librdkafka refuses a record above message.max.bytes in the produce call itself
        // (MSG_SIZE_TOO_LARGE): no attempt can ever succeed. With the default attempts and backoff,
        // retrying it would take minutes.
        let port = try TestSocket.freePort()
        let config = """
            kafka:
              producerProperties:
                message.max.bytes: "2000"
            """
        try await s.withWorker(env: ["TOCK_HTTP_PORT": "\(port)"], config: config) { worker in
            let out = try await s.collect([s.outputTopic, s.deadTopic])
            let due = WorkerScenario.now
            try await s.send([
                s.request(id: "too-big", at: due, value: [UInt8](repeating: 1, count: 5_000)),
                s.request(id: "fine", at: due),
            ])
            let dead = await out.wait(for: 1, on: s.deadTopic, within: .seconds(15))
            let record = try #require(dead.first, "nothing reached the dead-letter topic")
            #expect(record.header("tock-id") == "too-big")
            #expect(record.header("tock-error") == "delivery-rejected")
            #expect(record.header("tock-attempt") == "1")
            #expect(record.header("tock-error-detail")?.contains("MSG_SIZE_TOO_LARGE") == true, "\(record.header("tock-error-detail") ?? "")")
            #expect(record.header("tock-topic") == s.outputTopic)
            #expect(record.header("tock-payload-dropped") == "5000")
            // The dead letter's CreateTime is when the worker produced it: right after the one attempt.
            let deadLetteredAfter = try #require(record.message.timestamp?.milliseconds) - due
            #expect(deadLetteredAfter < 3_000, "dead-lettered \(deadLetteredAfter) ms after its due time")
            await out.wait(for: 1, on: s.outputTopic, within: .seconds(10))
            #expect(out.on(s.outputTopic).compactMap { $0.header("tock-id") } == ["fine"])
            #expect(!worker.log.contains("delivery failed; retrying"))
            let metrics = try await MetricsScrape.get(port: port)
            #expect(metrics.value(#"tock_dead_letters_total{code="delivery-rejected"}"#) == 1)
            #expect(metrics.value(#"tock_fired_total{result="retried"}"#) ?? 0 == 0)
            await out.stop()
        }
    }
}
