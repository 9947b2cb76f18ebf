import Foundation
import TockRedis

/// A Redis Cluster (3 masters, a replica each) or a Sentinel set (primary, replica, 3
/// Sentinels) of a test's own, started and stopped through `scripts/stack start NAME --redis …
/// --no-broker`: the broker stays the shared stack's.
final class RedisTopologyStack: Sendable {
    enum Kind: String, Sendable { case cluster, sentinel }

    let name: String
    let kind: Kind
    /// `TOCK_REDIS_URL` as the script printed it.
    let url: String
    /// Every redis-server of the stack (not the Sentinels), as `host:port`.
    let nodes: [String]

    private init(name: String, kind: Kind, url: String, nodes: [String]) {
        self.name = name
        self.kind = kind
        self.url = url
        self.nodes = nodes
    }

    static func start(_ kind: Kind, label: String) async throws -> RedisTopologyStack {
        let name = TestStack.unique(label)
        let (status, output) = await stackThread.run {
            TestStack.runStackScriptReturningStatus(["start", name, "--redis", kind.rawValue, "--no-broker"], mergingStandardError: true)
        }
        guard status == 0 else { throw HarnessError("scripts/stack start \(name) --redis \(kind) failed (\(status)):\n\(output)") }
        var url = "", nodes: [String] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix("export TOCK_REDIS_URL=") { url = String(line.dropFirst("export TOCK_REDIS_URL=".count)) }
            if line.hasPrefix("export TOCK_STACK_REDIS_NODES=") {
                nodes = line.dropFirst("export TOCK_STACK_REDIS_NODES=".count).split(separator: ",").map(String.init)
            }
        }
        guard !url.isEmpty, !nodes.isEmpty else { throw HarnessError("scripts/stack printed no TOCK_REDIS_URL:\n\(output)") }
        return RedisTopologyStack(name: name, kind: kind, url: url, nodes: nodes)
    }

    func stop() async {
        let name = self.name
        _ = await stackThread.run { TestStack.runStackScriptReturningStatus(["stop", name]) }
    }

    /// The pid of the redis-server at `node` (`host:port`).
    func pid(of node: String) async throws -> pid_t {
        let name = self.name
        let (status, output) = await stackThread.run { TestStack.runStackScriptReturningStatus(["redis-pid", name, node]) }
        guard status == 0, let pid = pid_t(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw HarnessError("no pid for \(node) in stack \(name): \(output)")
        }
        return pid
    }

    /// SIGKILLs the redis-server at `node`.
    func kill(_ node: String) async throws {
        Foundation.kill(try await pid(of: node), SIGKILL)
    }

    /// A client of one node only (for admin commands such as CLUSTER SETSLOT or SENTINEL).
    static func nodeClient(_ node: String) throws -> RedisClient {
        try RedisClient(url: "redis://\(node)")
    }

    /// Moves `slot` from its master to `target` as `redis-cli --cluster reshard` does: SETSLOT
    /// IMPORTING and MIGRATING, MIGRATE `batch` keys at a time with `pause` between, then SETSLOT
    /// NODE on every master. Requests meanwhile meet ASK (keys moved), TRYAGAIN (a multi-key call
    /// whose keys are split) and, after, MOVED.
    static func migrate(slot: Int, to target: RedisNodeAddress, in slots: RedisClusterSlots, batch: Int = 10, pause: Duration = .milliseconds(30))
        async throws
    {
        guard let source = slots.master(ofSlot: slot), source != target else { throw HarnessError("slot \(slot) has no master or is at \(target)") }
        let sourceAdmin = try nodeClient(source.description)
        let targetAdmin = try nodeClient(target.description)
        let sourceID = try await sourceAdmin.send(RawRedisCommand("CLUSTER", "MYID"), as: String.self)
        let targetID = try await targetAdmin.send(RawRedisCommand("CLUSTER", "MYID"), as: String.self)
        _ = try await targetAdmin.send(RawRedisCommand("CLUSTER", "SETSLOT", RedisArgument(slot), "IMPORTING", RedisArgument(sourceID)))
        _ = try await sourceAdmin.send(RawRedisCommand("CLUSTER", "SETSLOT", RedisArgument(slot), "MIGRATING", RedisArgument(targetID)))
        while true {
            let keys = try await sourceAdmin.send(
                RawRedisCommand("CLUSTER", "GETKEYSINSLOT", RedisArgument(slot), RedisArgument(batch)), as: [String].self)
            if keys.isEmpty { break }
            _ = try await sourceAdmin.send(
                RawRedisCommand(
                    ["MIGRATE", RedisArgument(target.host), RedisArgument(target.port), "", "0", "5000", "KEYS"]
                        + keys.map { RedisArgument($0) }))
            try await Task.sleep(for: pause)
        }
        for master in [target, source] + slots.masters.filter({ $0 != target && $0 != source }) {
            _ = try await nodeClient(master.description).send(
                RawRedisCommand("CLUSTER", "SETSLOT", RedisArgument(slot), "NODE", RedisArgument(targetID)))
        }
    }
}
