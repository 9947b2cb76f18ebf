import Foundation
import TockCore
import TockKafka

/// Schedules a burst of requests through a running worker and measures, from the output topic,
/// how each arrived: early (never allowed), lost, duplicated, and how late.
struct BurstBenchmark {
    var brokers: String
    var inputTopic: String
    var messages: Int
    var spreadMillis: Int64
    var leadMillis: Int64
    var outputPartitions: Int

    struct Result {
        var sent = 0
        var arrived = 0
        var lost = 0
        var duplicates = 0
        var early = 0
        var fireLateness: [Int64] = []
        var deliveryLateness: [Int64] = []
        /// `tock-published-us` minus the due time, in microseconds, from records that carry it
        /// (a worker with `delivery.publishedHeader`).
        var fireLatenessMicros: [Int64] = []
        var produceSeconds = 0.0
        /// From the first due time until the last message arrived.
        var spanSeconds = 0.0
    }

    func run() async throws -> Result {
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let outputTopic = "bench.out-\(run)"
        let consumer = try await BenchOutput.create(outputTopic, partitions: outputPartitions, brokers: brokers, group: "bench-\(run)")

        let clock = SystemWallClock()
        let producer = try KafkaProducer(brokers: brokers, properties: ["linger.ms": "20", "batch.num.messages": "10000"])
        let start = clock.nowMillis() + leadMillis
        var due: [String: Int64] = [:]
        var records: [KafkaProducerRecord] = []
        records.reserveCapacity(messages)
        for i in 0..<messages {
            let id = "\(run)-\(i)"
            let at = start + Int64(i) * spreadMillis / Int64(messages)
            due[id] = at
            records.append(
                KafkaProducerRecord(
                    topic: inputTopic, key: Array(id.utf8), value: Array("payload-\(i)".utf8),
                    headers: [
                        KafkaHeader(key: "tock-topic", string: outputTopic), KafkaHeader(key: "tock-at", string: String(at)),
                        KafkaHeader(key: "tock-id", string: id),
                    ]))
        }
        let produceStart = ContinuousClock.now
        for result in await producer.send(records) { _ = try result.get() }
        var result = Result(sent: messages)
        let elapsed = ContinuousClock.now - produceStart
        result.produceSeconds = seconds(elapsed)
        await producer.shutdown()

        var seen: [String: Int] = [:]
        let deadline = start + spreadMillis + 30_000
        while seen.count < messages && clock.nowMillis() < deadline {
            for message in try await consumer.poll(maxMessages: 5_000, timeout: .milliseconds(20)) {
                let now = clock.nowMicros()
                guard let id = message.headers.first(where: { $0.key == "tock-id" }).map({ String(decoding: $0.value ?? [], as: UTF8.self) }),
                    let at = due[id]
                else { continue }
                seen[id, default: 0] += 1
                if seen[id]! > 1 {
                    result.duplicates += 1
                    continue
                }
                let stamp = message.timestamp?.milliseconds ?? 0
                if stamp < at { result.early += 1 }
                result.fireLateness.append(stamp - at)
                result.deliveryLateness.append((now - at * 1000) / 1000)
                if let published = message.headers.first(where: { $0.key == "tock-published-us" }).flatMap({
                    Int64(String(decoding: $0.value ?? [], as: UTF8.self))
                }) {
                    result.fireLatenessMicros.append(published - at * 1000)
                }
                result.spanSeconds = max(result.spanSeconds, Double(now - start * 1000) / 1e6)
            }
        }
        // Late duplicates would show up in the next moments.
        let settle = clock.nowMillis() + 2_000
        while clock.nowMillis() < settle {
            for message in try await consumer.poll(maxMessages: 5_000, timeout: .milliseconds(50)) {
                if let id = message.headers.first(where: { $0.key == "tock-id" }).map({ String(decoding: $0.value ?? [], as: UTF8.self) }),
                    due[id] != nil
                {
                    seen[id, default: 0] += 1
                    if seen[id]! > 1 { result.duplicates += 1 }
                }
            }
        }
        await consumer.close()
        result.arrived = seen.count
        result.lost = messages - seen.count
        result.fireLateness.sort()
        result.deliveryLateness.sort()
        result.fireLatenessMicros.sort()
        return result
    }
}

func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
