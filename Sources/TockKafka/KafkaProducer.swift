import CRdKafka
import Logging
import Synchronization
import TockConcurrency

/// An idempotent Kafka producer.
///
/// `send` enqueues records without blocking (librdkafka's produce calls only take locks) and
/// suspends until their delivery reports arrive. A dedicated thread calls `rd_kafka_poll` to serve
/// those reports; `flush`, `shutdown` and `rd_kafka_destroy` run on a second dedicated thread. No
/// blocking librdkafka call runs on Swift's cooperative pool.
public final class KafkaProducer: Sendable {
    /// Defaults under the caller's properties. `linger.ms` is low because Tock publishes at an
    /// exact time: batching for throughput must not add visible lateness.
    public static let defaultProperties: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "linger.ms": "2",
        "client.id": "tock",
    ]

    private struct State {
        var closed = false
        // Batches awaiting reports, so a shutdown can resolve any whose reports never come.
        var batches: [ObjectIdentifier: KafkaDeliveryBatch] = [:]
    }

    private let client: KafkaClientHandle
    private let pollingThread: KafkaPollingThread
    private let blocking: BlockingThread
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - brokers: `bootstrap.servers`, e.g. `127.0.0.1:9092`.
    ///   - properties: librdkafka properties; they override `defaultProperties`.
    /// - Throws: `KafkaError` naming the offending property (`configKey`) if librdkafka rejects one.
    public init(brokers: String, properties: [String: String] = [:], logger: Logger = Logger(label: "tock.kafka.producer")) throws {
        var merged = Self.defaultProperties
        merged["bootstrap.servers"] = brokers
        merged.merge(properties) { _, new in new }
        let configuration = try KafkaConfiguration(merged)
        let client = try KafkaClientHandle(kind: .producer, configuration: configuration, callbacks: KafkaClientCallbacks(logger: logger))
        self.client = client
        self.logger = logger
        pollingThread = KafkaPollingThread(name: "\(client.name)-poll", client: client, busyIntervalMilliseconds: 5)
        blocking = BlockingThread(name: "\(client.name)-blocking")
    }

    deinit {
        // No send can be running (it would hold self). Destroy off whatever thread released us.
        pollingThread.stop(wait: false)
        let client = self.client
        blocking.submit { client.destroy() }
    }

    /// Sends one record and waits for its delivery report.
    /// - Throws: `KafkaError` if the record could not be enqueued (e.g. `MSG_SIZE_TOO_LARGE` above
    ///   `message.max.bytes`) or its delivery failed.
    public func send(_ record: KafkaProducerRecord) async throws(KafkaError) -> KafkaDeliveryReport {
        try await send([record])[0].get()
    }

    /// Sends `records` and waits for all their delivery reports: one result per record, in order.
    ///
    /// All records are enqueued from the calling task; when librdkafka's queue is full, it waits
    /// for the polling thread to drain it and goes on, so a large batch does not fail on
    /// `_QUEUE_FULL`. Cancelling the task stops enqueueing (remaining records fail with `_INTR`);
    /// records already enqueued are still delivered and reported.
    public func send(_ records: [KafkaProducerRecord]) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        await enqueue(records).results()
    }

    /// Enqueues `records` now, on the calling thread, without suspending: a caller that must
    /// publish at an exact instant (the record's CreateTime is stamped here) calls this from its
    /// own thread, then awaits `results()`. Records that did not fit a full queue are enqueued by
    /// `results()`.
    public func enqueue(_ records: [KafkaProducerRecord]) -> KafkaPendingSend {
        let batch = KafkaDeliveryBatch(topics: records.map(\.topic))
        guard !records.isEmpty else { return KafkaPendingSend(producer: self, records: records, batch: batch, next: 0) }
        let registered = state.withLock { state in
            guard !state.closed else { return false }
            state.batches[ObjectIdentifier(batch)] = batch
            return true
        }
        guard registered else {
            batch.failUnfinished(with: .closed("Kafka producer"))
            return KafkaPendingSend(producer: self, records: records, batch: batch, next: records.count)
        }
        return KafkaPendingSend(producer: self, records: records, batch: batch, next: produce(records, from: 0, into: batch))
    }

    /// One pass of produce calls from `start`; returns the index of the first record that did not
    /// fit (queue full), or `records.count`.
    func produce(_ records: [KafkaProducerRecord], from start: Int, into batch: KafkaDeliveryBatch) -> Int {
        if let fatal = client.callbacks.fatalError {
            batch.failUnfinished(with: fatal, from: start)
            return records.count
        }
        let encoder = KafkaRecordEncoder()
        do {
            return try client.withHandle { rk in encoder.produce(records, from: start, batch: batch, rk: rk) }
        } catch {
            batch.failUnfinished(with: error as? KafkaError ?? .closed("Kafka producer"), from: start)
            return records.count
        }
    }

    /// Enqueues what a full queue left over, then waits for every report.
    func finish(
        _ records: [KafkaProducerRecord], batch: KafkaDeliveryBatch, next start: Int,
        enqueueBy: ContinuousClock.Instant? = nil
    ) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        var next = start
        var backoff = Duration.milliseconds(1)
        while next < records.count {
            // Queue full: the polling thread frees room as delivery reports come in. Back off
            // while nothing drains (e.g. the broker is down) so the wait does not spin.
            try? await Task.sleep(for: backoff)
            if state.withLock({ $0.closed }) {
                batch.failUnfinished(with: .closed("Kafka producer"), from: next)
                break
            }
            if Task.isCancelled {
                batch.failUnfinished(
                    with: KafkaError(code: .interrupted, message: "send cancelled before the record was enqueued", isRetriable: true), from: next)
                break
            }
            if let enqueueBy, ContinuousClock.now >= enqueueBy {
                batch.failUnfinished(
                    with: KafkaError(
                        code: .purgedQueued, message: "the producer's queue stayed full past the time the record could still be sent",
                        isRetriable: true), from: next)
                break
            }
            let before = next
            next = produce(records, from: next, into: batch)
            backoff = next > before ? .milliseconds(1) : min(backoff * 2, .milliseconds(50))
        }
        let results = await batch.wait()
        _ = state.withLock { $0.batches.removeValue(forKey: ObjectIdentifier(batch)) }
        return results
    }

    /// Serves the delivery reports that have arrived, on the calling thread, without waiting. A
    /// caller that enqueues often (the publish gate) calls it after each enqueue, so reports are
    /// handled within its own wake-ups; the polling thread serves the rest within 5 ms.
    public func serveDeliveryReports() {
        _ = try? client.withHandle { rk in rd_kafka_poll(rk, 0) }
    }

    /// The number of partitions of `topic` per cluster metadata, or nil if the topic is unknown.
    public func partitionCount(topic: String, timeout: Duration = .seconds(5)) async throws -> Int? {
        try await client.partitionCount(topic: topic, timeout: timeout, on: blocking)
    }

    /// Throws unless a broker answers a metadata request within `timeout`. It blocks `thread`, not
    /// the producer's own threads, so a stalled broker cannot hold up a flush or a shutdown.
    public func checkBroker(timeout: Duration, on thread: BlockingThread) async throws {
        try await client.brokerRoundTrip(timeout: timeout, on: thread)
    }

    /// Messages and requests librdkafka still holds (queued, in flight, or reports not yet served).
    public var outstandingCount: Int {
        (try? client.withHandle { rk in Int(rd_kafka_outq_len(rk)) }) ?? 0
    }

    /// Waits until everything enqueued so far is delivered (or failed) and reported.
    /// - Throws: `KafkaError` `_TIMED_OUT` if messages remain after `timeout`.
    public func flush(timeout: Duration = .seconds(10)) async throws {
        let milliseconds = timeout.kafkaMilliseconds
        try await blocking.run { [client] in
            try client.withHandle { rk in
                let err = rd_kafka_flush(rk, milliseconds)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(err, "flush: \(rd_kafka_outq_len(rk)) messages or requests still outstanding after \(milliseconds) ms")
                }
            }
        }
    }

    /// Flushes for up to `timeout`, fails whatever is still undelivered (`_PURGE_*` or "closed"),
    /// stops the polling thread and destroys the librdkafka instance. Later sends fail with
    /// "closed" (`_DESTROY`). Only the first call does the work; later calls return at once.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        let milliseconds = timeout.kafkaMilliseconds
        await blocking.run { [client, pollingThread, logger] in
            _ = try? client.withHandle { rk in
                let err = rd_kafka_flush(rk, milliseconds)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.warning("Kafka producer shutdown: \(rd_kafka_outq_len(rk)) messages undelivered after \(milliseconds) ms, purging them")
                    _ = rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
                    // Serves the purged messages' delivery reports, which fail their sends.
                    _ = rd_kafka_flush(rk, 1000)
                }
            }
            pollingThread.stop(wait: true)
        }
        let pending = state.withLock { Array($0.batches.values) }
        for batch in pending { batch.failUnfinished(with: .closed("Kafka producer")) }
        await blocking.run { [client] in client.destroy() }
        // The blocking thread ends when the producer is released (see KafkaConsumer.close).
    }
}

extension KafkaProducer {
    /// Makes librdkafka raise a fabricated fatal error (`rd_kafka_test_fatal_error`), since real
    /// ones cannot be provoked on demand. For tests only.
    func triggerFatalErrorForTesting(_ code: KafkaError.Code, reason: String) throws {
        try client.withHandle { rk in
            _ = rd_kafka_test_fatal_error(rk, rd_kafka_resp_err_t(rawValue: code.rawValue), reason)
        }
    }
}
