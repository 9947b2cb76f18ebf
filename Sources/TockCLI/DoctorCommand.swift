import ArgumentParser
import Foundation
import TockCore
import TockKafka
import TockRedis
import TockRuntime
import TockTiming

/// Checks every part Tock stands on, against the configured Redis and brokers, and shows the
/// timing wheel firing on time. The README's first command runs it against the local stack.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check librdkafka, Redis and Kafka, and show the timing wheel firing on time."
    )

    @OptionGroup var options: ProcessOptions
    @Option(help: "Timers to fire in the wheel demo.") var timers = 12
    @Option(help: "Topic the Kafka round trip uses.") var topic = "tock.doctor"

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        let config = context.configuration
        let runtime = LibrdkafkaVersion.runtime
        print("librdkafka  runtime \(runtime.string) (>= 2.2.0 required): ok")
        try await checkRedis(config)
        try await checkKafka(config)
        await demoWheel()
        print("all checks passed")
    }

    private func checkRedis(_ config: TockConfiguration) async throws {
        let client = RedisClient(configuration: try RedisClient.Configuration(config))
        defer { Task { await client.close() } }
        let clock = ContinuousClock()
        let pong = try await client.send(PING())
        // A script loaded by SHA and a pipeline of 1000 calls, the two shapes Tock's store uses.
        let script = RedisScript(name: "doctor-add", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
        let key = RedisArgument("{tock-doctor}:\(ProcessInfo.processInfo.processIdentifier)")
        let calls = (0..<1000).map { _ in RedisScriptCall(script, keys: [key], args: ["1"]) }
        let started = clock.now
        let results = try await client.pipelineEvalSHA(calls)
        let elapsed = clock.now - started
        _ = try await client.send(DEL(key))
        let last = try results.last?.get()
        print(
            "redis       \(config.redactedRedisURL): PING \(pong), 1000 pipelined EVALSHA in \(format(elapsed)) (last = \(last.map { "\($0)" } ?? "-")): ok"
        )
    }

    private func checkKafka(_ config: TockConfiguration) async throws {
        let admin = try KafkaAdmin(brokers: config.kafka.brokers)
        try await admin.createTopic(topic, partitions: 1)
        await admin.close()
        let producer = try KafkaProducer(brokers: config.kafka.brokers)
        let consumer = try KafkaConsumer(
            brokers: config.kafka.brokers,
            groupId: "tock-doctor-\(ProcessInfo.processInfo.processIdentifier)",
            topics: [topic],
            properties: ["session.timeout.ms": "6000", "auto.offset.reset": "earliest"]
        )
        // Let the consumer join the group before producing, so the record is read as it arrives.
        try await consumer.waitForAssignment(timeout: .seconds(20))
        let marker = UUID().uuidString
        let sentAt = SystemWallClock().nowMicros()
        let report = try await producer.send(
            KafkaProducerRecord(
                topic: topic, key: Array("doctor".utf8), value: Array(marker.utf8),
                headers: [KafkaHeader(key: "tock-doctor", string: marker)]
            ))
        var roundTrip: Int64?
        for _ in 0..<100 where roundTrip == nil {
            for message in try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100))
            where message.value == Array(marker.utf8) {
                roundTrip = SystemWallClock().nowMicros() - sentAt
                try consumer.storeOffsets([message.nextOffset])
                try await consumer.commit()
            }
        }
        await consumer.close()
        await producer.shutdown()
        guard let roundTrip else { throw CommandFailure("kafka: the record produced to \(topic) never came back") }
        print(
            "kafka       \(config.kafka.brokers): produced to \(topic)/\(report.partition)@\(report.offset), consumed back with headers, committed; produce-to-consume \(String(format: "%.1f", Double(roundTrip) / 1000)) ms: ok"
        )
    }

    private func demoWheel() async {
        let clock = SystemWallClock()
        let (driver, expirations) = TimingWheelDriver<Int>.makeStream(clock: clock)
        let start = clock.nowMillis()
        print("wheel       \(timers) timers due from +100 ms to +\(100 * timers) ms:")
        for i in 1...timers { driver.insert(i, dueMillis: start + Int64(100 * ((i * 7) % timers + 1))) }
        var fired = 0
        var worst: Int64 = 0
        for await batch in expirations {
            let nowMicros = clock.nowMicros()
            for entry in batch {
                let lateMicros = nowMicros - entry.dueMillis * 1000
                worst = max(worst, lateMicros)
                print(
                    String(
                        format: "            timer %2d due +%4d ms fired %+.3f ms from its due time", entry.id, entry.dueMillis - start,
                        Double(lateMicros) / 1000))
                fired += 1
            }
            if fired == timers { break }
        }
        driver.stop()
        print(String(format: "wheel       %d fired, none early, worst %.3f ms late: ok", fired, Double(worst) / 1000))
    }

    private func format(_ duration: Duration) -> String {
        String(format: "%.1f ms", Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)
    }
}
