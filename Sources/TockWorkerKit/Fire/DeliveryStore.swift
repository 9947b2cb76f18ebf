import TockCore
import TockKafka
import TockStore

/// What the fire path needs of Redis: claims, delivery locks and their leases, rate-limit slots
/// and outcomes. `ScheduleStore` is the real one.
public protocol DeliveryStore: Sendable {
    var shardMap: ShardMap { get }
    func claim(
        _ ownerships: [Int: ShardOwnership], nowMillis: Int64, horizon: Int64, limit: Int, token: String, ownGraceMillis: Int64
    ) async throws(StoreError) -> [Int: Result<[(id: String, dueMillis: Int64)], StoreError>]
    func overdueClaims(_ shards: [Int], dueBefore: Int64, limit: Int) async throws(StoreError) -> [Int: [(id: String, dueMillis: Int64)]]
    func release(shard: Int, as owner: ShardOwnership) async throws(StoreError) -> Int
    func begin(
        _ entries: [Int: [(id: String, fireMillis: Int64)]], as ownerships: [Int: ShardOwnership], token: String, dueBy: Int64, leaseUntil: Int64
    ) async throws(StoreError) -> [Int: Result<[LockedDelivery], StoreError>]
    func renew(_ locks: [Int: [String]], leaseUntil: Int64) async throws(StoreError) -> [Int: Int]
    func reserveSlots(
        topic: String, perSecond: Int, periodMillis: Int64, nowMillis: Int64, horizonMillis: Int64, dueTimes: [Int64]
    ) async throws(StoreError) -> RateSlots
    func finishEach(_ locks: [LockOutcome], as ownerships: [Int: ShardOwnership], nowMillis: Int64) async throws(StoreError) -> [Result<
        FinishedLock, StoreError
    >]
}

extension ScheduleStore: DeliveryStore {}

/// Records handed to a `RecordSink` whose delivery reports are still to come.
public protocol PendingRecords: Sendable {
    /// One result per record, in order (`enqueueBy`: see `KafkaPendingSend.results(enqueueBy:)`).
    func results(enqueueBy: ContinuousClock.Instant?) async -> [Result<KafkaDeliveryReport, KafkaError>]
}

/// What the fire path needs of Kafka: output records enqueued at an exact instant, their reports,
/// partition counts, and a fenced producer replaced. `KafkaProducerPool` is the real one.
public protocol RecordSink: Sendable {
    var generation: Int { get }
    var outputPartitioner: KafkaKeyPartitioner { get }
    func replace(ifGeneration generation: Int) async throws -> Bool
    func partitionCount(of topic: String) async -> Int32?
    func knownPartitionCount(of topic: String) -> Int32?
    func serveDeliveryReports()
    /// Enqueues on the calling thread (the publish gate's), without waiting.
    func enqueueRecords(_ records: [KafkaProducerRecord]) -> any PendingRecords
    func send(_ records: [KafkaProducerRecord]) async -> [Result<KafkaDeliveryReport, KafkaError>]
}

extension KafkaPooledSend: PendingRecords {}

extension KafkaProducerPool: RecordSink {
    public func enqueueRecords(_ records: [KafkaProducerRecord]) -> any PendingRecords { enqueue(records) }
}

/// Finds records in output partitions by a header's value: the read-back before a later attempt
/// is published. `KafkaRecordFinder` is the real one.
public protocol RecordLookup: Sendable {
    func find(header: String, values wanted: Set<String>, from starts: [KafkaTopicPartition: Int64], timeout: Duration) async throws -> Set<String>
}

extension KafkaRecordFinder: RecordLookup {}
