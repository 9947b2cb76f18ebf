import Metrics
import Synchronization
import TockCore
import TockKafka
import TockStore

/// The worker's metrics (names in the README). Counters are created once and reused: the
/// swift-metrics factory looks them up by label and dimensions on every creation.
public struct WorkerMetrics: Sendable {
    let requests: [StoreOutcome: Counter]
    let rejected: Counter
    let rejectedByCode: [String: Counter]
    let firedDelivered: Counter
    let firedRetried: Counter
    let firedDead: Counter
    let deadLetters: [DeadLetterCode: Counter]
    let firedSkipped: Counter
    let fireLateness: Timer
    let lockRoundTrip: Timer
    let wheelEntries: Gauge
    let claimed: Counter
    let reconciled: Counter
    let redisErrors: Counter
    let kafkaErrors: Counter
    let commitFailures: Counter
    let recreatedPartitions: Counter
    let readBackChecked: Counter
    let readBackFound: Counter
    let leaseWithheld: Counter
    let stalls: Counter
    /// The delivery-lock watchdog (`HeldLocks.handBackOverdue`).
    let handedBack: Counter
    let oldestHeldDelivery: Gauge
    let producersReplaced: Counter
    let occurrencesSkipped: Counter
    let seriesEnded: Counter
    /// Per `output.rateLimits` glob: the delay a limit added, the records waiting behind it, and
    /// those queued again for lack of a slot soon.
    let rateLimitDelay: [String: Timer]
    let rateLimitWaiting: [String: Gauge]
    let rateLimitRequeued: [String: Counter]
    /// The broker's acknowledgement latency of published records (librdkafka's, enqueue to report).
    let deliveryAck: Timer
    let retries: [String: Counter]
    let inputLag = InputLagGauges()

    public init(rateLimits: RateLimits = RateLimits([String: Int]())) {
        var requests: [StoreOutcome: Counter] = [:]
        for outcome in StoreOutcome.allCases {
            requests[outcome] = Counter(label: "tock_requests_total", dimensions: [("result", outcome.rawValue)])
        }
        self.requests = requests
        rejected = Counter(label: "tock_requests_total", dimensions: [("result", "rejected")])
        var byCode: [String: Counter] = [:]
        for code in RejectionCode.allCases.map(\.rawValue) {
            byCode[code] = Counter(label: "tock_rejected_total", dimensions: [("code", code)])
        }
        rejectedByCode = byCode
        firedDelivered = Counter(label: "tock_fired_total", dimensions: [("result", "delivered")])
        firedRetried = Counter(label: "tock_fired_total", dimensions: [("result", "retried")])
        firedDead = Counter(label: "tock_fired_total", dimensions: [("result", "dead")])
        var deadLetters: [DeadLetterCode: Counter] = [:]
        for code in DeadLetterCode.allCases {
            deadLetters[code] = Counter(label: "tock_dead_letters_total", dimensions: [("code", code.rawValue)])
        }
        self.deadLetters = deadLetters
        firedSkipped = Counter(label: "tock_fired_total", dimensions: [("result", "skipped")])
        fireLateness = Timer(label: "tock_fire_lateness_seconds", preferredDisplayUnit: .seconds)
        lockRoundTrip = Timer(label: "tock_delivery_lock_seconds", preferredDisplayUnit: .seconds)
        wheelEntries = Gauge(label: "tock_wheel_entries")
        claimed = Counter(label: "tock_claimed_total")
        reconciled = Counter(label: "tock_reconciled_total")
        redisErrors = Counter(label: "tock_redis_errors_total")
        kafkaErrors = Counter(label: "tock_kafka_errors_total")
        commitFailures = Counter(label: "tock_commit_failures_total")
        recreatedPartitions = Counter(label: "tock_recreated_partitions_total")
        readBackChecked = Counter(label: "tock_readback_total", dimensions: [("result", "checked")])
        readBackFound = Counter(label: "tock_readback_total", dimensions: [("result", "found")])
        leaseWithheld = Counter(label: "tock_fired_total", dimensions: [("result", "withheld")])
        stalls = Counter(label: "tock_stalls_total")
        handedBack = Counter(label: "tock_deliveries_handed_back_total")
        oldestHeldDelivery = Gauge(label: "tock_oldest_held_delivery_seconds")
        producersReplaced = Counter(label: "tock_producer_replacements_total")
        occurrencesSkipped = Counter(label: "tock_series_occurrences_skipped_total")
        seriesEnded = Counter(label: "tock_series_ended_total")
        deliveryAck = Timer(label: "tock_delivery_seconds", preferredDisplayUnit: .seconds)
        retries = Dictionary(
            uniqueKeysWithValues: ["delivery-failed", "delivery-rejected", "not-attempted"].map {
                ($0, Counter(label: "tock_retries_total", dimensions: [("reason", $0)]))
            })
        let globs = rateLimits.limits.map(\.glob)
        rateLimitDelay = Dictionary(
            uniqueKeysWithValues: globs.map {
                ($0, Timer(label: "tock_rate_limit_delay_seconds", dimensions: [("limit", $0)], preferredDisplayUnit: .seconds))
            })
        rateLimitWaiting = Dictionary(uniqueKeysWithValues: globs.map { ($0, Gauge(label: "tock_rate_limit_waiting", dimensions: [("limit", $0)])) })
        rateLimitRequeued = Dictionary(
            uniqueKeysWithValues: globs.map {
                ($0, Counter(label: "tock_rate_limit_requeued_total", dimensions: [("limit", $0)]))
            })
    }

    func count(_ outcome: StoreOutcome) { requests[outcome]?.increment() }
}

/// `tock_input_lag{topic,partition}`, one gauge per input partition, made once each; a revoked
/// partition reads 0 here (its new owner reports it).
final class InputLagGauges: Sendable {
    private let gauges = Mutex<[KafkaTopicPartition: Gauge]>([:])

    func record(_ partition: KafkaTopicPartition, lag: Int64) {
        let gauge = gauges.withLock { gauges in
            if let gauge = gauges[partition] { return gauge }
            let gauge = Gauge(label: "tock_input_lag", dimensions: [("topic", partition.topic), ("partition", String(partition.partition))])
            gauges[partition] = gauge
            return gauge
        }
        gauge.record(lag)
    }

    func forget(_ partitions: [KafkaTopicPartition]) {
        let revoked = gauges.withLock { gauges in partitions.compactMap { gauges[$0] } }
        for gauge in revoked { gauge.record(0) }
    }
}
