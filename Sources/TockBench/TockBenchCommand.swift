import ArgumentParser
import Foundation
import TockCore

@main
struct TockBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock-bench",
        abstract: "Tock micro-benchmarks (build with -c release).",
        subcommands: [
            Wheel.self, Burst.self, Steady.self, Tombstones.self, LimitsProduce.self, LimitsEvalSHA.self, ProduceRequests.self, WaitStored.self,
            RedisBytes.self, WakeFloor.self, SeriesBench.self, RateLimitBench.self,
        ]
    )

    struct Wheel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Timing wheel inserts/s, expirations/s and cancels/s on one core.")

        @Option(help: "Entries per round.") var entries = 2_000_000
        @Option(help: "Due times spread uniformly over this many milliseconds.") var spreadMillis: Int64 = 10_000
        @Option(help: "Rounds; the best is reported.") var rounds = 3
        @Option(help: "Id types to measure: int64, string or both.") var ids = "both"

        func run() {
            let benchmark = WheelBenchmark(entries: entries, spreadMillis: spreadMillis, rounds: rounds)
            var results: [WheelBenchmark.Result] = []
            if ids != "string" { results.append(benchmark.run(label: "int64-id", makeID: { Int64($0) })) }
            if ids != "int64" { results.append(benchmark.run(label: "string-id", makeID: { "req-\($0)-0123456789" })) }
            print("timing wheel: \(entries) entries due over \(spreadMillis) ms, best of \(rounds), one thread")
            print("id          inserts/s     expirations/s  cancels/s")
            for r in results {
                print(
                    r.label.padding(toLength: 12, withPad: " ", startingAt: 0)
                        + fmt(r.insertsPerSecond) + fmt(r.expirationsPerSecond) + fmt(r.cancelsPerSecond))
            }
            for r in results {
                let key = r.label.replacingOccurrences(of: "-", with: "_")
                print("RESULT wheel_\(key)_inserts_per_s=\(Int(r.insertsPerSecond))")
                print("RESULT wheel_\(key)_expirations_per_s=\(Int(r.expirationsPerSecond))")
                print("RESULT wheel_\(key)_cancels_per_s=\(Int(r.cancelsPerSecond))")
            }
        }

        private func fmt(_ value: Double) -> String {
            let text = String(format: "%.2fM", value / 1e6)
            return text.padding(toLength: 15, withPad: " ", startingAt: 0)
        }
    }
}

struct Burst: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Schedule a burst through a running worker; count early, lost and duplicated, measure lateness.")

    @Option(help: "Bootstrap servers (default: TOCK_KAFKA_BROKERS).") var brokers = BenchDefaults.brokers
    @Option(help: "The worker's input topic.") var inputTopic = "tock.requests"
    @Option(help: "Messages in the burst.") var messages = 20_000
    @Option(help: "Their due times spread over this many ms.") var spreadMillis: Int64 = 10_000
    @Option(help: "The first is due this many ms after the burst is sent.") var leadMillis: Int64 = 5_000
    @Option(help: "Partitions of the output topic.") var outputPartitions = 24

    func run() async throws {
        let benchmark = BurstBenchmark(
            brokers: brokers, inputTopic: inputTopic, messages: messages, spreadMillis: spreadMillis,
            leadMillis: leadMillis, outputPartitions: outputPartitions)
        let r = try await benchmark.run()
        print(
            "burst: \(messages) messages due over \(spreadMillis) ms, sent \(leadMillis) ms ahead (produced in \(String(format: "%.2f", r.produceSeconds)) s)"
        )
        print("arrived \(r.arrived), lost \(r.lost), duplicates \(r.duplicates), early \(r.early)")
        print(
            "fire lateness ms (record timestamp - due):  p50 \(percentile(r.fireLateness, 0.5))  p99 \(percentile(r.fireLateness, 0.99))  p99.9 \(percentile(r.fireLateness, 0.999))  max \(r.fireLateness.last ?? 0)"
        )
        print(
            "delivery lateness ms (arrival - due):       p50 \(percentile(r.deliveryLateness, 0.5))  p99 \(percentile(r.deliveryLateness, 0.99))  p99.9 \(percentile(r.deliveryLateness, 0.999))  max \(r.deliveryLateness.last ?? 0)"
        )
        print("from the first due time to the last arrival: \(String(format: "%.2f", r.spanSeconds)) s")
        if !r.fireLatenessMicros.isEmpty {
            let micros = r.fireLatenessMicros
            print(
                "fire lateness µs (tock-published-us - due), \(micros.count) records:  p50 \(percentile(micros, 0.5))  p99 \(percentile(micros, 0.99))  max \(micros.last ?? 0)"
            )
            print("RESULT burst_fire_p99_us=\(percentile(micros, 0.99))")
        }
        print("RESULT burst_messages=\(messages)")
        print("RESULT burst_s=\(String(format: "%.2f", r.spanSeconds))")
        print("RESULT burst_lost=\(r.lost)")
        print("RESULT burst_duplicates=\(r.duplicates)")
        print("RESULT burst_early=\(r.early)")
        print("RESULT burst_fire_p50_ms=\(percentile(r.fireLateness, 0.5))")
        print("RESULT burst_fire_p99_ms=\(percentile(r.fireLateness, 0.99))")
        print("RESULT burst_fire_max_ms=\(r.fireLateness.last ?? 0)")
        print("RESULT burst_delivery_p99_ms=\(percentile(r.deliveryLateness, 0.99))")
    }
}
