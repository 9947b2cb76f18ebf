import ArgumentParser
import Foundation
import TockMonitorKit
import TockRuntime

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print the cluster: workers, their heartbeats and shards, each shard's owner and epoch (from a monitor's /v1/cluster)."
    )
    @OptionGroup var options: ProcessOptions
    @Option(help: "A monitor's HTTP address (default: monitor.url, else http://127.0.0.1:<http.port>).") var monitor: String?
    @Flag(help: "Print the raw JSON.") var json = false

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options)
        let base = MonitorClient.baseURL(option: monitor, configuration: context.configuration)
        let snapshot: ClusterSnapshot
        do {
            let answer = try await MonitorClient.cluster(at: base)
            if json {
                print(String(decoding: answer.json, as: UTF8.self))
                return
            }
            snapshot = answer.snapshot
        } catch {
            throw CommandFailure(error.description)
        }
        print("monitor \(snapshot.monitor): \(snapshot.leading ? "leading" : "standing by; leader \(snapshot.leader ?? "unknown")")")
        guard snapshot.leading else {
            print("(ask the leader for the cluster view)")
            return
        }
        print("reassignments: \(snapshot.reassignments)   heartbeat timeout: \(snapshot.heartbeatTimeoutMillis) ms")
        if let overdue = snapshot.oldestOverdueMillis {
            print("oldest overdue message waiting in a due index: \(snapshot.takenAtMillis - overdue) ms")
        }
        print("")
        print("worker                          live  heartbeat age  shards")
        for worker in snapshot.workers {
            print(
                worker.id.padding(toLength: 32, withPad: " ", startingAt: 0)
                    // "hold": live, but firing nothing (its clock); it gets no shard.
                    + (worker.live ? (worker.holding == true ? "hold  " : "yes   ") : "no    ")
                    + "\(worker.heartbeatAgeMillis) ms".padding(toLength: 15, withPad: " ", startingAt: 0)
                    + "\(worker.shards.count): \(worker.shards.map(String.init).joined(separator: ","))")
        }
        print("")
        print("shard  owner                            epoch")
        for shard in snapshot.shards {
            print(
                String(shard.shard).padding(toLength: 7, withPad: " ", startingAt: 0)
                    + (shard.owner ?? "-").padding(toLength: 33, withPad: " ", startingAt: 0)
                    + (shard.epoch.map(String.init) ?? "-"))
        }
    }
}
