import ArgumentParser
import Foundation
import TockCore
import TockKafka
import TockRuntime

/// The README's demo: schedules a few dozen messages over ~15 s through a running worker, with a
/// cancel, a duplicate and a bad request, and prints each arrival as it happens with its lateness.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Schedule messages through a running tock-worker and watch them arrive on time."
    )

    @OptionGroup var options: ProcessOptions
    @Option(help: "Messages to schedule.") var count = 30
    @Option(help: "Spread of their due times, in seconds.") var seconds = 15

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options, runtimeProblem: LibrdkafkaVersion.runtimeProblem)
        let config = context.configuration
        let clock = SystemWallClock()
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let outputTopic = "demo.out-\(run)"

        let admin = try KafkaAdmin(brokers: config.kafka.brokers)
        try await admin.createTopic(outputTopic, partitions: 4)
        await admin.close()
        let consumer = try KafkaConsumer(
            brokers: config.kafka.brokers, groupId: "tock-demo-\(run)", topics: [outputTopic, config.kafka.rejectedTopic],
            properties: ["session.timeout.ms": "6000", "fetch.wait.max.ms": "10", "auto.offset.reset": "latest"])
        print("waiting for the demo consumer to join its group …")
        try await consumer.waitForAssignment()

        let producer = try KafkaProducer(brokers: config.kafka.brokers)
        let start = clock.nowMillis()
        var requests: [KafkaProducerRecord] = []
        var expected: [String: Int64] = [:]
        func input(_ value: String, _ headers: [(String, String)]) -> KafkaProducerRecord {
            KafkaProducerRecord(
                topic: config.kafka.inputTopics[0], value: Array(value.utf8), headers: headers.map { KafkaHeader(key: $0.0, string: $0.1) })
        }
        func request(_ id: String, due: Int64, value: String, extra: [KafkaHeader] = []) -> KafkaProducerRecord {
            KafkaProducerRecord(
                topic: config.kafka.inputTopics[0], key: Array(id.utf8), value: Array(value.utf8),
                headers: [
                    KafkaHeader(key: "tock-topic", string: outputTopic), KafkaHeader(key: "tock-at", string: String(due)),
                    KafkaHeader(key: "tock-id", string: "\(run)-\(id)"), KafkaHeader(key: "demo", string: "yes"),
                ] + extra)
        }
        for i in 0..<count {
            let due = start + 1_000 + Int64(i) * Int64(seconds - 1) * 1_000 / Int64(max(1, count - 1))
            requests.append(request("m\(i)", due: due, value: "message \(i)"))
            expected["\(run)-m\(i)"] = due
        }
        // Relative to the request's timestamp, not to when the worker reads it.
        requests.append(input("delayed", [("tock-topic", outputTopic), ("tock-delay", "5s"), ("tock-id", "\(run)-delay")]))
        expected["\(run)-delay"] = start + 5_000
        requests.append(request("dup", due: start + 6_000, value: "sent twice, delivered once"))
        requests.append(request("dup", due: start + 6_000, value: "sent twice, delivered once"))
        expected["\(run)-dup"] = start + 6_000
        requests.append(request("cancelled", due: start + 7_000, value: "never delivered"))
        requests.append(input("", [("tock-action", "cancel"), ("tock-id", "\(run)-cancelled")]))
        requests.append(input("no due time", [("tock-topic", outputTopic), ("tock-id", "\(run)-bad"), ("demo", "yes")]))
        for result in await producer.send(requests) { _ = try result.get() }
        await producer.shutdown()
        print(
            "scheduled \(count + 2) messages over \(seconds) s to \(outputTopic), sent one of them twice, cancelled one, and sent one bad request\n")
        print("   at      tock-id               due (+ms)  fire late  delivery late")

        var arrived: [String: Int] = [:]
        var fireLateness: [Int64] = []
        var deliveryLateness: [Int64] = []
        var early = 0, rejected = 0, unexpected = 0
        let deadline = start + Int64(seconds) * 1_000 + 10_000
        while clock.nowMillis() < deadline && (arrived.count < expected.count || rejected == 0) {
            for message in try await consumer.poll(maxMessages: 500, timeout: .milliseconds(50)) {
                let now = clock.nowMicros()
                let headers = Dictionary(
                    message.headers.map { ($0.key, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
                if message.topic == config.kafka.rejectedTopic {
                    guard headers["tock-id"] == "\(run)-bad" else { continue }
                    rejected += 1
                    print(
                        String(
                            format: "%6.3fs  rejected: %@ (%@)", Double(now / 1000 - start) / 1000, headers["tock-error"] ?? "?",
                            headers["tock-error-detail"] ?? ""))
                    continue
                }
                guard let id = headers["tock-id"], let dueText = headers["tock-at"], let due = Int64(dueText) else { continue }
                let fire = (message.timestamp?.milliseconds ?? 0) - due
                let delivery = Double(now - due * 1000) / 1000
                if fire < 0 || delivery < 0 { early += 1 }
                if expected[id] == nil { unexpected += 1 }
                arrived[id, default: 0] += 1
                fireLateness.append(fire)
                deliveryLateness.append(Int64(delivery))
                print(
                    String(format: "%6.3fs  ", Double(now / 1000 - start) / 1000) + id.padding(toLength: 20, withPad: " ", startingAt: 0)
                        + String(format: "  %+6lld  %6lld ms  %9.1f ms", due - start, fire, delivery) + (arrived[id]! > 1 ? "  DUPLICATE" : ""))
            }
        }
        await consumer.close()
        let missing = expected.keys.filter { arrived[$0] == nil }.sorted()
        let duplicates = arrived.values.filter { $0 > 1 }.count
        fireLateness.sort()
        deliveryLateness.sort()
        func percentile(_ values: [Int64], _ p: Double) -> Int64 { values.isEmpty ? 0 : values[min(values.count - 1, Int(Double(values.count) * p))] }
        print("")
        print(
            "arrived \(arrived.count) of \(expected.count); missing \(missing.count); duplicates \(duplicates); early \(early); the cancelled one: \(arrived["\(run)-cancelled"] == nil ? "not delivered" : "DELIVERED"); rejected \(rejected)"
        )
        print(
            "fire lateness (record timestamp - due):     p50 \(percentile(fireLateness, 0.5)) ms, p99 \(percentile(fireLateness, 0.99)) ms, max \(fireLateness.last ?? 0) ms"
        )
        print(
            "delivery lateness (arrival here - due):      p50 \(percentile(deliveryLateness, 0.5)) ms, p99 \(percentile(deliveryLateness, 0.99)) ms, max \(deliveryLateness.last ?? 0) ms"
        )
        if !missing.isEmpty || duplicates > 0 || early > 0 || unexpected > 0 || rejected == 0 {
            throw CommandFailure("the demo did not go as expected (missing: \(missing.joined(separator: ", ")))")
        }
    }
}
