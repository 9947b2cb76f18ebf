import Logging
import Synchronization

/// Several idempotent producers behind the interface of one, each owning the partitions `p` with
/// `p % count == index`.
///
/// Why: librdkafka puts one partition in each produce request, and an idempotent producer keeps
/// at most 5 requests in flight per broker connection. With many partitions on one broker, a
/// record waits for the partitions ahead of it (measured at 10k/s over 24 partitions: 60 ms at
/// p50 before its request was even sent). Each producer here has its own connection and its own
/// 5 requests in flight. A keyed record goes to the producer owning the partition the configured
/// partitioner gives its key, so one partition's batches still come from one producer, in order.
/// Keyless records, and records for a topic whose partition count is not known yet, go round
/// robin and librdkafka picks their partition (Tock's output records always carry one).
public final class KafkaProducerPool: Sendable {
    private let current: ProducerSlots
    private let make: @Sendable () throws -> KafkaProducer
    private let partitioner: KafkaKeyPartitioner
    private let counts: KafkaPartitionCounts
    private let next = Atomic<Int>(0)

    /// - Parameters:
    ///   - count: producers (connections per broker), at least 1.
    ///   - properties: librdkafka properties for each of them (see `KafkaProducer`).
    public init(count: Int, brokers: String, properties: [String: String] = [:], logger: Logger = Logger(label: "tock.kafka.producer")) throws {
        let make: @Sendable () throws -> KafkaProducer = { try KafkaProducer(brokers: brokers, properties: properties, logger: logger) }
        var producers: [KafkaProducer] = []
        for _ in 0..<max(1, count) { producers.append(try make()) }
        self.make = make
        let current = ProducerSlots(producers)
        self.current = current
        partitioner = KafkaKeyPartitioner(partitioner: properties["partitioner"])
        counts = KafkaPartitionCounts { topic in try await current.producers[0].partitionCount(topic: topic) }
    }

    /// The producers in use now.
    public var producers: [KafkaProducer] { current.producers }

    /// Counts replacements (`replace(ifGeneration:)`).
    public var generation: Int { current.state.withLock { $0.generation } }

    /// Puts new producers in place of the current ones, unless another caller did since
    /// `generation`, and shuts the old ones down. For producers the broker fenced: an idempotent
    /// producer whose records timed out locally starts a new epoch, and a broker may refuse that
    /// producer id from then on (`PRODUCER_FENCED`); a new instance gets a new id.
    /// Returns whether this call replaced them.
    @discardableResult
    public func replace(ifGeneration generation: Int) async throws -> Bool {
        guard generation == self.generation else { return false }
        let fresh = try producers.map { _ in try make() }
        let (old, replaced) = current.state.withLock { current -> ([KafkaProducer], Bool) in
            guard current.generation == generation else { return (fresh, false) }
            defer { current = (fresh, generation + 1) }
            return (current.producers, true)
        }
        await withTaskGroup(of: Void.self) { group in
            for producer in old { group.addTask { await producer.shutdown(timeout: .milliseconds(500)) } }
        }
        return replaced
    }

    /// The partition count of `topic`, asked of the broker when it is not known yet; nil before
    /// the topic exists. With `outputPartitioner`, it fixes an output record's partition.
    public func partitionCount(of topic: String) async -> Int32? { await counts.fetchedCount(of: topic) }

    /// The partition count of `topic` if known, without waiting; an unknown or stale one is
    /// asked of the broker in the background.
    public func knownPartitionCount(of topic: String) -> Int32? { counts.count(of: topic) }

    /// The configured partitioner, as `KafkaKeyPartitioner` computes it.
    public var outputPartitioner: KafkaKeyPartitioner { partitioner }

    /// Serves every producer's arrived delivery reports on the calling thread (see
    /// `KafkaProducer.serveDeliveryReports`).
    public func serveDeliveryReports() {
        for producer in producers { producer.serveDeliveryReports() }
    }

    /// Enqueues `records` now, on the calling thread (see `KafkaProducer.enqueue`).
    public func enqueue(_ records: [KafkaProducerRecord]) -> KafkaPooledSend {
        let producers = self.producers
        guard producers.count > 1 else {
            return KafkaPooledSend(count: records.count, parts: [(Array(records.indices), producers[0].enqueue(records))])
        }
        var routed = Array(repeating: (indices: [Int](), records: [KafkaProducerRecord]()), count: producers.count)
        // One look-up per topic per call: this runs on the publish gate's thread.
        var partitionCounts: [String: Int32?] = [:]
        for (index, record) in records.enumerated() {
            var record = record
            let owner: Int
            if record.partition == nil {
                let known = partitionCounts[record.topic] ?? counts.count(of: record.topic)
                partitionCounts[record.topic] = known
                if let count = known { record.partition = partitioner.partition(key: record.key, count: count) }
            }
            if let partition = record.partition, partition >= 0 {
                owner = Int(partition) % producers.count
            } else {
                owner = next.wrappingAdd(1, ordering: .relaxed).oldValue % producers.count
            }
            routed[owner].indices.append(index)
            routed[owner].records.append(record)
        }
        var parts: [([Int], KafkaPendingSend)] = []
        for (owner, part) in routed.enumerated() where !part.records.isEmpty {
            parts.append((part.indices, producers[owner].enqueue(part.records)))
        }
        return KafkaPooledSend(count: records.count, parts: parts)
    }

    /// Sends `records` and waits for all their delivery reports: one result per record, in order.
    public func send(_ records: [KafkaProducerRecord]) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        await enqueue(records).results()
    }

    /// Sends `records` and waits for all their delivery reports; throws the first failure.
    public func sendAll(_ records: [KafkaProducerRecord]) async throws(KafkaError) {
        for result in await send(records) {
            if case .failure(let error) = result { throw error }
        }
    }

    /// Shuts every producer down (see `KafkaProducer.shutdown`), all at once.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        await withTaskGroup(of: Void.self) { group in
            for producer in producers { group.addTask { await producer.shutdown(timeout: timeout) } }
        }
    }

    /// Messages and requests librdkafka still holds, over all producers.
    public var outstandingCount: Int { producers.reduce(0) { $0 + $1.outstandingCount } }
}

/// Records handed to a `KafkaProducerPool`, whose delivery reports are still to come.
public struct KafkaPooledSend: Sendable {
    let count: Int
    let parts: [([Int], KafkaPendingSend)]

    /// One result per record, in the order they were given, once every report has arrived
    /// (`enqueueBy`: see `KafkaPendingSend.results(enqueueBy:)`).
    public func results(enqueueBy: ContinuousClock.Instant? = nil) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        if parts.count == 1 { return await parts[0].1.results(enqueueBy: enqueueBy) }
        var results = [Result<KafkaDeliveryReport, KafkaError>?](repeating: nil, count: count)
        for (indices, pending) in parts {
            for (index, result) in zip(indices, await pending.results(enqueueBy: enqueueBy)) { results[index] = result }
        }
        return results.map { $0! }
    }
}

/// The producers a pool uses now, shared with its partition-count look-ups.
final class ProducerSlots: Sendable {
    let state: Mutex<(producers: [KafkaProducer], generation: Int)>

    init(_ producers: [KafkaProducer]) { state = Mutex((producers, 0)) }

    var producers: [KafkaProducer] { state.withLock { $0.producers } }
}
