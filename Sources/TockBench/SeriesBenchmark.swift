import ArgumentParser
import Foundation
import TockCore
import TockKafka

/// What arrived on one output topic, by `tock-id`: the records' timestamps and due times.
struct OutputTally {
    var stamps: [String: [Int64]] = [:]
    var due: [String: Int64] = [:]

    var duplicates: Int { stamps.values.reduce(0) { $0 + max(0, $1.count - 1) } }
    var early: Int { stamps.reduce(0) { $0 + (($1.value.first ?? .max) < (due[$1.key] ?? 0) ? 1 : 0) } }
    var lateness: [Int64] { stamps.compactMap { id, times in due[id].map { times[0] - $0 } }.sorted() }

    /// Reads `topic` from the start until `expected` ids arrived (or `deadline`), then 2 s more
    /// for late duplicates.
    static func read(brokers: String, topic: String, expected: Int, deadline: Int64) async throws -> OutputTally {
        let consumer = try BenchOutput.reader(of: topic, brokers: brokers, group: "bench-read-\(UInt32.random(in: 0...UInt32.max))")
        let clock = SystemWallClock()
        var tally = OutputTally()
        var settleUntil = Int64.max
        while clock.nowMillis() < min(deadline, settleUntil) {
            for message in try await consumer.poll(maxMessages: 5_000, timeout: .milliseconds(20)) {
                func header(_ name: String) -> String? {
                    message.headers.first { $0.key == name }.map { String(decoding: $0.value ?? [], as: UTF8.self) }
                }
                guard let id = header("tock-id"), let at = header("tock-at").flatMap({ Int64($0) }) else { continue }
                tally.due[id] = at
                tally.stamps[id, default: []].append(message.timestamp?.milliseconds ?? 0)
            }
            if tally.stamps.count >= expected && settleUntil == .max { settleUntil = clock.nowMillis() + 2_000 }
        }
        await consumer.close()
        return tally
    }
}

struct SeriesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "series",
        abstract: "Many tock-every series through a running worker: occurrences lost, doubled, early, and how late."
    )
    @OptionGroup var options: WorkerBenchOptions
    @Option(help: "Series.") var series = 1_000
    @Option(help: "Occurrences of each.") var count = 10
    @Option(help: "Their interval.") var every = "1s"
    @Option(help: "The first occurrences fall over this many ms, from --lead-millis ahead.") var spreadMillis: Int64 = 1_000

    func run() async throws {
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let topic = "bench.series-\(run)"
        let admin = try KafkaAdmin(brokers: options.brokers)
        try await admin.createTopic(topic, partitions: 24)
        await admin.close()
        let interval = try DurationText.parseMillis(every)
        let start = SystemWallClock().nowMillis() + options.leadMillis
        let producer = try KafkaProducer(brokers: options.brokers, properties: ["linger.ms": "20"])
        let records = (0..<series).map { i in
            KafkaProducerRecord(
                topic: options.inputTopic, key: Array("s\(i)".utf8), value: Array("payload-\(i)".utf8),
                headers: [
                    KafkaHeader(key: "tock-topic", string: topic), KafkaHeader(key: "tock-id", string: "\(run)-\(i)"),
                    KafkaHeader(key: "tock-at", string: String(start + Int64(i) * spreadMillis / Int64(series))),
                    KafkaHeader(key: "tock-every", string: every), KafkaHeader(key: "tock-count", string: String(count)),
                ])
        }
        for result in await producer.send(records) { _ = try result.get() }
        await producer.shutdown()
        let expected = series * count
        let tally = try await OutputTally.read(
            brokers: options.brokers, topic: topic, expected: expected,
            deadline: start + spreadMillis + Int64(count) * interval + 30_000)
        let lateness = tally.lateness
        print("series: \(series) series × \(count) occurrences every \(every); \(tally.stamps.count) of \(expected) arrived")
        print("lost \(expected - tally.stamps.count), doubled \(tally.duplicates), early \(tally.early)")
        print(
            "occurrence lateness ms (record timestamp - tock-at): p50 \(percentile(lateness, 0.5))  p99 \(percentile(lateness, 0.99))  max \(lateness.last ?? 0)"
        )
        print("RESULT series_occurrences=\(expected)")
        print("RESULT series_lost=\(expected - tally.stamps.count)")
        print("RESULT series_duplicates=\(tally.duplicates)")
        print("RESULT series_early=\(tally.early)")
        print("RESULT series_fire_p99_ms=\(percentile(lateness, 0.99))")
        print("RESULT series_fire_max_ms=\(lateness.last ?? 0)")
    }
}

struct RateLimitBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate-limit",
        abstract: "A burst due at one instant on a rate-limited topic, beside one on an unlimited topic, through running workers."
    )
    @OptionGroup var options: WorkerBenchOptions
    @Option(help: "The limited topic: the workers must run with TOCK_OUTPUT_RATE_LIMITS naming it.") var limitedTopic = "bench.limited"
    @Option(help: "Its limit, records/s (as configured).") var rate = 2_000
    @Option(help: "Messages on the limited topic.") var messages = 20_000
    @Option(help: "Messages on an unlimited topic, due at the same instant.") var unlimited = 2_000

    func run() async throws {
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let free = "bench.free-\(run)"
        let admin = try KafkaAdmin(brokers: options.brokers)
        try await admin.createTopics([(limitedTopic, 24, 1), (free, 24, 1)])
        await admin.close()
        let due = SystemWallClock().nowMillis() + options.leadMillis
        let producer = try KafkaProducer(brokers: options.brokers, properties: ["linger.ms": "20", "batch.num.messages": "10000"])
        let records = (0..<(messages + unlimited)).map { i in
            KafkaProducerRecord(
                topic: options.inputTopic, key: Array("k\(i)".utf8), value: Array("payload-\(i)".utf8),
                headers: [
                    KafkaHeader(key: "tock-topic", string: i < messages ? limitedTopic : free), KafkaHeader(key: "tock-id", string: "\(run)-\(i)"),
                    KafkaHeader(key: "tock-at", string: String(due)),
                ])
        }
        for result in await producer.send(records) { _ = try result.get() }
        await producer.shutdown()
        let expectedSeconds = Int64(messages / max(1, rate))
        let limited = try await OutputTally.read(
            brokers: options.brokers, topic: limitedTopic, expected: messages,
            deadline: due + expectedSeconds * 1_300 + 30_000)
        let others = try await OutputTally.read(brokers: options.brokers, topic: free, expected: unlimited, deadline: due + 30_000)
        let stamps = limited.stamps.values.compactMap(\.first).sorted()
        var busiest = 0
        var first = 0
        for (index, stamp) in stamps.enumerated() {
            while stamps[first] <= stamp - 1_000 { first += 1 }
            busiest = max(busiest, index - first + 1)
        }
        let worstSecond = Dictionary(grouping: stamps) { $0 / 1_000 }.values.map(\.count).max() ?? 0
        let spread = Double((stamps.last ?? 0) - (stamps.first ?? 0)) / 1_000
        let freeLateness = others.lateness
        print("rate limit: \(messages) due at one instant on a topic limited to \(rate)/s, \(unlimited) on an unlimited one")
        print(
            "limited: \(stamps.count) arrived, doubled \(limited.duplicates), early \(limited.early); spread \(String(format: "%.2f", spread)) s "
                + "(ideal \(String(format: "%.2f", Double(messages - 1) / Double(rate))) s); busiest 1000 ms window \(busiest), busiest calendar second \(worstSecond)"
        )
        print("unlimited: \(others.stamps.count) arrived, lateness ms p99 \(percentile(freeLateness, 0.99)) max \(freeLateness.last ?? 0)")
        print("RESULT rate_limit_spread_s=\(String(format: "%.2f", spread))")
        print("RESULT rate_limit_busiest_window=\(busiest)")
        print("RESULT rate_limit_busiest_second=\(worstSecond)")
        print("RESULT rate_limit_lost=\(messages - stamps.count)")
        print("RESULT rate_limit_early=\(limited.early)")
        print("RESULT rate_limit_unlimited_max_ms=\(freeLateness.last ?? 0)")
    }
}

/// What every benchmark that drives running workers is told: where the broker is, the workers'
/// input topic, and how far ahead its first messages are due.
struct WorkerBenchOptions: ParsableArguments {
    @Option(help: "Bootstrap servers (default: TOCK_KAFKA_BROKERS).") var brokers = BenchDefaults.brokers
    @Option(help: "The workers' input topic.") var inputTopic = "tock.requests"
    @Option(help: "How far ahead of now the first messages are due, ms.") var leadMillis: Int64 = 5_000
}
