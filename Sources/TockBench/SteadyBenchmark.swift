import ArgumentParser
import Foundation
import Synchronization
import TockCore
import TockKafka

/// Steady load through a running worker: `rate` requests/s for `seconds`, sent every 10 ms, each
/// due `leadMillis` after it is sent plus its share of those 10 ms, so due times are uniform to
/// the millisecond. One consumer reads the output, and with it probe records the benchmark writes
/// straight to the output topic (same partitions, same broker load, 100 per second) from a
/// producer of their own, with Tock's linger, so no other records queue ahead of them: their
/// produce-to-consume latency is the broker's own floor under delivery lateness.
struct Steady: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Steady load: fire and delivery lateness, and the broker's own latency.")
    @Option var brokers = BenchDefaults.brokers
    @Option var inputTopic = "tock.requests"
    @Option var rate = 10_000
    @Option var seconds = 60
    @Option var leadMillis: Int64 = 3_000
    @Option var label = "steady"
    @Option(help: "A file created when the first request is sent, for scripts that time faults from there.")
    var startedFile: String?

    func run() async throws {
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let outputTopic = "bench.steady-\(run)"
        let consumer = try await BenchOutput.create(outputTopic, partitions: 24, brokers: brokers, group: "bench-\(run)")

        let clock = SystemWallClock()
        let producer = try KafkaProducer(brokers: brokers, properties: ["linger.ms": "5", "batch.num.messages": "10000"])
        let probeProducer = try KafkaProducer(brokers: brokers, properties: ["linger.ms": "5"])
        let total = rate * seconds
        let failures = SendFailures()
        if let startedFile { _ = FileManager.default.createFile(atPath: startedFile, contents: nil) }
        let producing = Task {
            let perTick = max(1, rate / 100)
            let started = clock.nowMillis()
            var sent = 0, tick = 0
            while sent < total {
                let now = clock.nowMillis()
                let chunk = min(perTick, total - sent)
                let records = (0..<chunk).map { i in
                    KafkaProducerRecord(
                        topic: inputTopic, key: Array("s\(sent + i)".utf8), value: Array("steady-\(sent + i)".utf8),
                        headers: [
                            KafkaHeader(key: "tock-topic", string: outputTopic),
                            KafkaHeader(key: "tock-at", string: String(now + leadMillis + Int64(i * 10 / chunk))),
                            KafkaHeader(key: "tock-id", string: "\(run)-\(sent + i)"),
                        ])
                }
                sent += chunk
                tick += 1
                let batch = records
                let probe = probeProducer.enqueue([
                    KafkaProducerRecord(
                        topic: outputTopic, value: Array(String(clock.nowMicros()).utf8), headers: [KafkaHeader(key: "bench-probe", string: "1")])
                ])
                Task {
                    for result in await producer.send(batch) + (await probe.results()) {
                        if case .failure = result { failures.count.withLock { $0 += 1 } }
                    }
                }
                let next = started + Int64(tick) * 10
                let wait = next - clock.nowMillis()
                if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
            }
        }

        var fire: [Int64] = [], delivery: [Int64] = [], broker: [Int64] = []
        fire.reserveCapacity(total)
        delivery.reserveCapacity(total)
        var seen = Set<String>()
        var early = 0, duplicates = 0
        let deadline = clock.nowMillis() + Int64(seconds) * 1_000 + leadMillis + 30_000
        while seen.count < total && clock.nowMillis() < deadline {
            for message in try await consumer.poll(maxMessages: 5_000, timeout: .milliseconds(20)) {
                let nowMicros = clock.nowMicros()
                if message.headers.first?.key == "bench-probe" {
                    if let sentMicros = Int64(String(decoding: message.value ?? [], as: UTF8.self)) {
                        broker.append((nowMicros - sentMicros) / 1_000)
                    }
                    continue
                }
                var id: String?, due: Int64?
                for header in message.headers {
                    if header.key == "tock-id" { id = String(decoding: header.value ?? [], as: UTF8.self) }
                    if header.key == "tock-at" { due = Int64(String(decoding: header.value ?? [], as: UTF8.self)) }
                }
                guard let id, let due else { continue }
                if !seen.insert(id).inserted {
                    duplicates += 1
                    continue
                }
                let stamp = message.timestamp?.milliseconds ?? 0
                let arrivedMillis = nowMicros / 1_000
                if stamp < due || arrivedMillis < due { early += 1 }
                fire.append(stamp - due)
                delivery.append(arrivedMillis - due)
            }
        }
        await producing.value
        await consumer.close()
        await producer.shutdown()
        await probeProducer.shutdown()
        fire.sort()
        delivery.sort()
        broker.sort()
        var lost = total - seen.count
        if lost > 0 {
            let missing = (0..<total).lazy.map { "\(run)-\($0)" }.filter { !seen.contains($0) }.prefix(20)
            print("missing (first \(min(lost, 20))): \(missing.joined(separator: " "))")
            // A record the live consumer never got may still be in the topic (the local broker has
            // been seen to skip a record batch on fetch): lost counts only what is not there.
            let inTopic = try await Self.ids(in: outputTopic, brokers: brokers, group: "bench-\(run)-recheck", wanted: total)
            let skipped = (0..<total).lazy.map { "\(run)-\($0)" }.filter { !seen.contains($0) && inTopic.contains($0) }.count
            print(
                "re-read of \(outputTopic): \(skipped) of the \(lost) missing are in the topic (published; the live consumer skipped them), \(lost - skipped) are not"
            )
            print("RESULT \(label)_consumer_skipped=\(skipped)")
            lost -= skipped
        }
        print(
            "\(label): \(rate)/s for \(seconds) s (\(total) messages, each due \(leadMillis) ms after sending); request send failures \(failures.count.withLock { $0 })"
        )
        print("arrived \(seen.count), lost \(lost), duplicates \(duplicates), early \(early)")
        print(
            "fire lateness ms:      p50 \(percentile(fire, 0.5))  p99 \(percentile(fire, 0.99))  p99.9 \(percentile(fire, 0.999))  max \(fire.last ?? 0)"
        )
        print(
            "delivery lateness ms:  p50 \(percentile(delivery, 0.5))  p99 \(percentile(delivery, 0.99))  p99.9 \(percentile(delivery, 0.999))  max \(delivery.last ?? 0)"
        )
        print("broker produce-to-consume ms (probe): p50 \(percentile(broker, 0.5))  p99 \(percentile(broker, 0.99))  max \(broker.last ?? 0)")
        print("RESULT \(label)_fire_p50_ms=\(percentile(fire, 0.5))")
        print("RESULT \(label)_fire_p99_ms=\(percentile(fire, 0.99))")
        print("RESULT \(label)_fire_p999_ms=\(percentile(fire, 0.999))")
        print("RESULT \(label)_fire_max_ms=\(fire.last ?? 0)")
        print("RESULT \(label)_delivery_p99_ms=\(percentile(delivery, 0.99))")
        print("RESULT \(label)_lost=\(lost)")
        print("RESULT \(label)_duplicates=\(duplicates)")
        print("RESULT early=\(early)")
        print("RESULT broker_p99_ms=\(percentile(broker, 0.99))")
    }
}

extension Steady {
    /// The `tock-id`s in `topic`, read from its beginning by a consumer of its own until `wanted`
    /// were found or nothing new came for 5 s.
    static func ids(in topic: String, brokers: String, group: String, wanted: Int) async throws -> Set<String> {
        let consumer = try KafkaConsumer(
            brokers: brokers, groupId: group, topics: [topic],
            properties: [
                "session.timeout.ms": "6000", "auto.offset.reset": "earliest",
            ])
        try await consumer.waitForAssignment()
        var ids = Set<String>()
        var quietSince = ContinuousClock.now
        while ids.count < wanted && ContinuousClock.now - quietSince < .seconds(5) {
            let messages = try await consumer.poll(maxMessages: 5_000, timeout: .milliseconds(100))
            if !messages.isEmpty { quietSince = ContinuousClock.now }
            for message in messages {
                if let header = message.headers.first(where: { $0.key == "tock-id" }) {
                    ids.insert(String(decoding: header.value ?? [], as: UTF8.self))
                }
            }
        }
        await consumer.close()
        return ids
    }
}

final class SendFailures: Sendable {
    let count = Mutex(0)
}
