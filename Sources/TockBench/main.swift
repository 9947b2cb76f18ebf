import ArgumentParser
import TockCore

struct TockBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tock-bench",
        abstract: "Tock micro-benchmarks (build with -c release).",
        subcommands: [Wheel.self]
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
                print(r.label.padding(toLength: 12, withPad: " ", startingAt: 0)
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

TockBenchCommand.main()
