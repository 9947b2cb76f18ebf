import ArgumentParser
import Foundation
import TockCore
import TockRedis
import TockStore

/// Measures Redis memory per tombstone at a given density, writing them exactly as `complete.lua`
/// lays them out (shard tag, window, bucket, 64-bit fingerprint).
struct Tombstones: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Redis bytes per tombstone (use a Redis of its own: it reads INFO memory).")

    @Option(help: "Redis URL (default: TOCK_REDIS_URL).") var redis = BenchDefaults.redisURL
    @Option(help: "Tombstones to write: one window's worth (10k/s for 15 min = 9M).") var count = 9_000_000
    @Option(help: "Shards.") var shards = 16

    func run() async throws {
        let client = try RedisClient(url: redis)
        try await client.connect()
        let prefix = "bench-tomb-\(UInt32.random(in: 0...UInt32.max))"
        let storeKeys = StoreKeys(prefix: prefix)
        let before = try await usedMemory(client)
        let map = ShardMap(shardCount: shards)
        let window = 1_795_000_000_000 / 900_000
        var batch: [[RedisArgument]] = []
        batch.reserveCapacity(20_000)
        let started = ContinuousClock.now
        for i in 0..<count {
            let id = "order-\(i)-\(prefix)"
            let tombstone = Tombstone(id: id)
            let key = storeKeys.tombstones(map.shard(of: id), window: Int64(window), bucket: tombstone.bucket)
            batch.append(["SADD", RedisArgument(key), RedisArgument(String(tombstone.fingerprint))])
            if batch.count == 20_000 || i == count - 1 {
                for result in try await client.pipeline(arguments: batch) { _ = try result.get() }
                batch.removeAll(keepingCapacity: true)
            }
        }
        let elapsed = ContinuousClock.now - started
        let after = try await usedMemory(client)
        let perTombstone = Double(after - before) / Double(count)
        let keys = shards * Tombstone.buckets
        print("tombstones: \(count) in \(keys) sets (\(count / keys) per set), written in \(elapsed)")
        print(String(format: "redis used_memory +%.1f MB: %.1f bytes per tombstone", Double(after - before) / 1e6, perTombstone))
        print(String(format: "RESULT tombstone_bytes=%.1f", perTombstone))
        await client.close()
    }
}
