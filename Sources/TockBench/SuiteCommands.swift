import ArgumentParser
import Foundation
import TockCore
import TockKafka
import TockRedis
import TockStore

/// Settings that keep the local broker fast: big batches (its memory storage slows with the number
/// of record batches per partition) spread over many partitions.
let bulkProducerProperties = [
    "linger.ms": "50", "batch.num.messages": "10000", "batch.size": "4000000",
    "queue.buffering.max.messages": "2000000", "queue.buffering.max.kbytes": "2000000",
]

/// Produces records 0..<count, 100k at a time (bounded memory), failing on the first error.
func sendInChunks(_ producer: KafkaProducer, count: Int, record: (Int) -> KafkaProducerRecord) async throws {
    var sent = 0
    while sent < count {
        let chunk = min(100_000, count - sent)
        let records = (sent..<(sent + chunk)).map(record)
        for result in await producer.send(records) { _ = try result.get() }
        sent += chunk
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Raw librdkafka produce rate to the broker: the ceiling under Tock's publishing.
struct LimitsProduce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "limits-produce", abstract: "Raw produce rate (records/s) to the broker.")
    @Option var brokers = BenchDefaults.brokers
    @Option var messages = 1_000_000
    @Option var payloadBytes = 100

    func run() async throws {
        let topic = "limits.produce-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try KafkaAdmin(brokers: brokers)
        try await admin.createTopic(topic, partitions: 24)
        await admin.close()
        let producer = try KafkaProducer(brokers: brokers, properties: bulkProducerProperties)
        let value = [UInt8](repeating: 0x61, count: payloadBytes)
        let started = ContinuousClock.now
        try await sendInChunks(producer, count: messages) { KafkaProducerRecord(topic: topic, key: Array("k\($0)".utf8), value: value) }
        let rate = Double(messages) / seconds(ContinuousClock.now - started)
        await producer.shutdown()
        print("raw produce: \(messages) records of \(payloadBytes) B in \(String(format: "%.2f", Double(messages) / rate)) s")
        print("RESULT produce_limit_per_s=\(Int(rate))")
    }
}

/// Raw pipelined EVALSHA rate on Redis with a script doing what a stored message costs (HSET, ZADD).
struct LimitsEvalSHA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "limits-evalsha", abstract: "Raw pipelined EVALSHA rate (calls/s) on Redis.")
    @Option var redis = BenchDefaults.redisURL
    @Option var calls = 1_000_000
    @Option var pipeline = 1_000

    func run() async throws {
        let client = try RedisClient(url: redis)
        try await client.connect()
        let script = RedisScript(
            name: "limits", source: "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); return redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])")
        let keys = StoreKeys(prefix: "limits-\(UInt32.random(in: 0...UInt32.max))")
        let value = RedisArgument(String(repeating: "a", count: 100))
        let started = ContinuousClock.now
        var done = 0
        while done < calls {
            let batch = (0..<min(pipeline, calls - done)).map { i -> RedisScriptCall in
                let shard = (done + i) % 64
                return RedisScriptCall(
                    script, keys: [RedisArgument(keys.messages(shard)), RedisArgument(keys.queue(shard))],
                    args: [RedisArgument("id-\(done + i)"), value, RedisArgument(1_900_000_000_000 + done + i)])
            }
            for result in try await client.pipelineEvalSHA(batch) { _ = try result.get() }
            done += batch.count
        }
        let rate = Double(calls) / seconds(ContinuousClock.now - started)
        print("raw EVALSHA: \(calls) calls, pipelines of \(pipeline), \(String(format: "%.0f", rate))/s")
        print("RESULT evalsha_limit_per_s=\(Int(rate))")
        for shard in 0..<64 {
            _ = try? await client.send(RawRedisCommand(["DEL", RedisArgument(keys.messages(shard)), RedisArgument(keys.queue(shard))]))
        }
        await client.close()
    }
}

/// Writes requests to the input topic before a worker runs (for the ingest and memory scenarios).
struct ProduceRequests: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "produce-requests", abstract: "Write N scheduling requests to the input topic.")
    @Option var brokers = BenchDefaults.brokers
    @Option var inputTopic = "tock.requests"
    @Option var outputTopic = "bench.far"
    @Option var messages = 1_000_000
    @Option(help: "Due this far ahead, spread over the next minute.") var dueInMillis: Int64 = 3_600_000
    @Option var payloadBytes = 100
    @Flag(help: "Give each request a tock-id (so each one also writes a tombstone).") var withIds = false
    @Option(help: "tock-tags of every request (\"\" = none).") var tags = ""

    func run() async throws {
        let admin = try KafkaAdmin(brokers: brokers)
        try await admin.createTopics([(inputTopic, 24, 1), (outputTopic, 24, 1)])
        await admin.close()
        let producer = try KafkaProducer(brokers: brokers, properties: bulkProducerProperties)
        let value = [UInt8](repeating: 0x62, count: payloadBytes)
        let base = SystemWallClock().nowMillis() + dueInMillis
        let started = ContinuousClock.now
        try await sendInChunks(producer, count: messages) { n in
            KafkaProducerRecord(
                topic: inputTopic, key: Array("k\(n)".utf8), value: value,
                headers: [
                    KafkaHeader(key: "tock-topic", string: outputTopic), KafkaHeader(key: "tock-at", string: String(base + Int64(n % 60_000))),
                ] + (withIds ? [KafkaHeader(key: "tock-id", string: "bulk-\(n)")] : [])
                    + (tags.isEmpty ? [] : [KafkaHeader(key: "tock-tags", string: tags)]))
        }
        await producer.shutdown()
        print("produced \(messages) requests in \(String(format: "%.1f", seconds(ContinuousClock.now - started))) s")
    }
}

/// Waits until the store holds N pending messages; the rate from the first to the last is the
/// ingest rate.
struct WaitStored: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-stored", abstract: "Wait until Redis holds N pending messages; print the ingest rate.")
    @Option var redis = BenchDefaults.redisURL
    @Option var keyPrefix = "tock"
    @Option var shards = 16
    @Option var messages = 1_000_000
    @Option var timeoutSeconds = 600.0
    @Flag(help: "Count the cold index's entries, not the queued messages.") var cold = false

    func run() async throws {
        let client = try RedisClient(url: redis)
        try await client.connect()
        let keys = StoreKeys(prefix: keyPrefix)
        let commands = (0..<shards).map {
            (cold ? RawRedisCommand(["HGET", RedisArgument(keys.coldMeta($0)), "n"]) : RawRedisCommand(["ZCARD", RedisArgument(keys.queue($0))]))
                as any RedisCommand
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(timeoutSeconds))
        var firstSeen: ContinuousClock.Instant?
        var count = 0
        while clock.now < deadline {
            count = 0
            for result in try await client.pipeline(commands) {
                switch result {
                case .success(.integer(let n)): count += Int(n)
                case .success(let value): count += value.string.flatMap { Int($0) } ?? 0
                default: break
                }
            }
            if count > 0 && firstSeen == nil { firstSeen = clock.now }
            if count >= messages { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard count >= messages, let firstSeen else { throw ValidationError("only \(count) of \(messages) stored before the timeout") }
        let rate = Double(messages) / max(0.001, seconds(clock.now - firstSeen))
        print("stored \(messages) in \(String(format: "%.1f", Double(messages) / rate)) s (from the first stored)")
        print("RESULT ingest_per_s=\(Int(rate))")
        await client.close()
    }
}

/// Redis memory per pending message beyond its payload.
struct RedisBytes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-bytes", abstract: "used_memory minus a baseline, per message, beyond the payload.")
    @Option var redis = BenchDefaults.redisURL
    @Option var baseline: Int
    @Option var messages: Int
    @Option var payloadBytes = 100

    func run() async throws {
        let client = try RedisClient(url: redis)
        try await client.connect()
        let used = try await usedMemory(client)
        let perMessage = Double(used - baseline) / Double(messages)
        print(
            String(
                format: "redis: %.0f B per pending message, %.0f B beyond its %d B payload", perMessage, perMessage - Double(payloadBytes),
                payloadBytes))
        print(String(format: "RESULT redis_bytes_per_msg=%.0f", perMessage - Double(payloadBytes)))
        await client.close()
    }
}

/// Redis's `used_memory`, in bytes.
func usedMemory(_ client: RedisClient) async throws -> Int {
    let info = try await client.send(RawRedisCommand(["INFO", "memory"]))
    guard let text = info.string, let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix("used_memory:") }),
        let value = Int(line.dropFirst("used_memory:".count))
    else { throw ValidationError("no used_memory in INFO") }
    return value
}
