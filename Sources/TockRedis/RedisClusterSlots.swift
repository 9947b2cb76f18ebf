/// Which master serves each of the 16384 slots, with its replicas: a Redis Cluster's map as
/// `CLUSTER SLOTS` tells it.
public struct RedisClusterSlots: Sendable, Equatable {
    public struct Shard: Sendable, Hashable {
        public var master: RedisNodeAddress
        public var replicas: [RedisNodeAddress]

        public init(master: RedisNodeAddress, replicas: [RedisNodeAddress] = []) {
            self.master = master
            self.replicas = replicas
        }
    }

    public private(set) var shards: [Shard] = []
    /// Slot → index into `shards`, -1 for a slot no master serves.
    private var owners = [Int16](repeating: -1, count: RedisHashSlot.count)

    public init() {}

    /// `ranges` as `CLUSTER SLOTS` lists them: start, end (inclusive) and the shard serving them.
    public init(_ ranges: [(start: Int, end: Int, shard: Shard)]) {
        for range in ranges { assign(range.start...range.end, to: range.shard) }
    }

    /// Parses a `CLUSTER SLOTS` reply. `answeredBy` stands in for a node listed with an empty
    /// host, which means "the node you asked".
    public init(clusterSlotsReply reply: RedisValue, answeredBy: RedisNodeAddress) throws(RedisError) {
        guard case .array(let entries) = reply else { throw .unexpectedReply("CLUSTER SLOTS: \(reply)") }
        self.init()
        for entry in entries {
            guard case .array(let fields) = entry, fields.count >= 3,
                case .integer(let start) = fields[0], case .integer(let end) = fields[1],
                (0..<Int64(RedisHashSlot.count)).contains(start), (start..<Int64(RedisHashSlot.count)).contains(end)
            else { throw .unexpectedReply("CLUSTER SLOTS entry: \(entry)") }
            let nodes = fields[2...].compactMap { Self.node($0, answeredBy: answeredBy) }
            // A master without a known endpoint ("?") cannot be reached: leave its slots unserved.
            guard let master = nodes.first, Self.node(fields[2], answeredBy: answeredBy) != nil else { continue }
            assign(Int(start)...Int(end), to: Shard(master: master, replicas: Array(nodes.dropFirst())))
        }
    }

    private static func node(_ value: RedisValue, answeredBy: RedisNodeAddress) -> RedisNodeAddress? {
        guard case .array(let fields) = value, fields.count >= 2, let host = fields[0].string, case .integer(let port) = fields[1] else { return nil }
        if host == "?" { return nil }
        return RedisNodeAddress(host: host.isEmpty ? answeredBy.host : host, port: Int(port))
    }

    public func master(ofSlot slot: Int) -> RedisNodeAddress? {
        let index = owners[slot]
        return index < 0 ? nil : shards[Int(index)].master
    }

    /// Whether every slot has a master: a partial map means a cluster being set up or broken.
    public var coversEverySlot: Bool { !owners.contains(-1) }

    public var masters: [RedisNodeAddress] { shards.map(\.master) }

    /// Every node the map knows, masters first.
    public var nodes: [RedisNodeAddress] { shards.map(\.master) + shards.flatMap(\.replicas) }

    /// How many slots each master serves.
    public var slotCounts: [RedisNodeAddress: Int] {
        var counts: [RedisNodeAddress: Int] = [:]
        for index in owners where index >= 0 { counts[shards[Int(index)].master, default: 0] += 1 }
        return counts
    }

    /// A MOVED reply: `slot` is now served by `master`, as far as the node that said so knows.
    public mutating func move(slot: Int, to master: RedisNodeAddress) {
        assign(slot...slot, to: Shard(master: master))
    }

    private mutating func assign(_ slots: ClosedRange<Int>, to shard: Shard) {
        let index: Int
        if let existing = shards.firstIndex(where: { $0.master == shard.master }) {
            index = existing
            if !shard.replicas.isEmpty { shards[index].replicas = shard.replicas }
        } else {
            index = shards.count
            shards.append(shard)
        }
        for slot in slots { owners[slot] = Int16(index) }
    }
}
