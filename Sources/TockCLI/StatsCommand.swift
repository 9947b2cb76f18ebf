import ArgumentParser
import Foundation
import TockMonitorKit
import TockRuntime
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print the cluster: workers, their heartbeats and shards, each shard's owner and epoch (from a monitor's /v1/cluster)."
    )
    @OptionGroup var options: ProcessOptions
    @Option(help: "A monitor's HTTP address (default: http://127.0.0.1:<http.port>).") var monitor: String?
    @Flag(help: "Print the raw JSON.") var json = false

    func run() async throws {
        let context = ProcessBootstrap.start(processName: "tock", options: options)
        let base = monitor ?? "http://127.0.0.1:\(context.configuration.http.port)"
        guard let url = URL(string: base.hasSuffix("/") ? "\(base)v1/cluster" : "\(base)/v1/cluster") else {
            throw CommandFailure("not a URL: \(base)")
        }
        let data: Data
        do { (data, _) = try await URLSession.shared.data(from: url) } catch {
            throw CommandFailure("cannot reach the monitor at \(url): \(error.localizedDescription)")
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let snapshot = try JSONDecoder().decode(ClusterSnapshot.self, from: data)
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
            print(worker.id.padding(toLength: 32, withPad: " ", startingAt: 0)
                  + (worker.live ? "yes   " : "no    ")
                  + "\(worker.heartbeatAgeMillis) ms".padding(toLength: 15, withPad: " ", startingAt: 0)
                  + "\(worker.shards.count): \(worker.shards.map(String.init).joined(separator: ","))")
        }
        print("")
        print("shard  owner                            epoch")
        for shard in snapshot.shards {
            print(String(shard.shard).padding(toLength: 7, withPad: " ", startingAt: 0)
                  + (shard.owner ?? "-").padding(toLength: 33, withPad: " ", startingAt: 0)
                  + (shard.epoch.map(String.init) ?? "-"))
        }
    }
}
