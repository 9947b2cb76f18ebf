import Logging
import TockCore
import TockKafka
import TockStore

/// What happens to a locked batch: split into slices of up to 50 ms of due time (`PublishSlices`),
/// each settled (`DeliverySettlement`), read back where an earlier attempt may be in Kafka
/// (`ReadBack`), given rate-limit slots (`RateLimiter`), published at its due time
/// (`DeliveryPublisher`), dead-lettered where it will not be delivered (`DeadLetterPublisher`),
/// and recorded as soon as its last record is acknowledged (`OutcomeRecorder`). Each slice's locks
/// are released from renewal once it is recorded.
struct SlicePipeline: Sendable {
    /// How far behind this worker's clock another worker's may be, when an earlier attempt's
    /// record is looked for from its due time.
    static let readBackSkewMillis: Int64 = 2_000
    /// How long a read-back may take before its deliveries count as failed (and are retried).
    static let readBackTimeoutMillis: Int64 = 10_000

    let context: FireContext
    let leases: LeaseKeeper
    /// Reads output partitions back before a delivery with an earlier attempt is published again;
    /// without one, such deliveries are published unchecked.
    let lookup: (any RecordLookup)?
    let rateLimiter: RateLimiter
    let publisher: DeliveryPublisher
    let deadLetters: DeadLetterPublisher
    let recorder: OutcomeRecorder
    let faults: FaultPoints

    func deliver(_ deliveries: [LockedDelivery]) async {
        await withTaskGroup(of: Void.self) { group in
            // Records of rate-limited topics wait for their slots in slices of their own, so that
            // neither the slot calls nor the waits hold back the others' publishing or recording.
            let limits = context.configuration.output.rateLimits
            let limited = limits.isEmpty ? [] : deliveries.filter { limits.limit(for: $0.message.topic) != nil }
            let free = limited.isEmpty ? deliveries : deliveries.filter { limits.limit(for: $0.message.topic) == nil }
            for slice in PublishSlices.split(free, spanMillis: 50) + PublishSlices.split(limited, spanMillis: 50) {
                group.addTask {
                    await deliverSlice(slice)
                    leases.held.withLock { $0.release(slice) }
                }
            }
        }
    }

    /// When a delivery is published at the latest in the normal course: at its publish time, plus
    /// the read-back's timeout for a later attempt, plus the rate limiter's horizon for a
    /// rate-limited topic.
    func latestPublishMillis(_ delivery: LockedDelivery) -> Int64 {
        var at = PublishSlices.publishMillis(delivery)
        if ReadBack.isLookedFor(delivery) { at += Self.readBackTimeoutMillis }
        if context.configuration.output.rateLimits.limit(for: delivery.message.topic) != nil { at += RateLimiter.horizonMillis }
        return at
    }

    func deliverSlice(_ deliveries: [LockedDelivery]) async {
        var settlement = DeliverySettlement(
            deliveries, policy: DeliveryPolicy(context.configuration.delivery), nowMillis: context.clock.nowMillis(),
            missedAfterMillis: context.configuration.series.missedAfterMillis)
        logUnpublished(settlement)
        let partitions = await publisher.outputPartitions(settlement.toPublish)
        var toPublish = await readBack(settlement.toPublish, of: deliveries, partitions: partitions, settlement: &settlement)
        let slots = await rateLimiter.reserve(&toPublish, settlement: &settlement)
        leases.held.withLock { $0.enter(.publishing, deliveries) }
        await faults.hangIfDueBeforePublishing(toPublish.map(\.message.id))
        let generation = publisher.sink.generation
        let outcomes = await publisher.publish(toPublish, partitions: partitions, notBefore: slots)
        if outcomes.contains(where: { if case .failure(let error) = $0.1 { error.needsNewProducer } else { false } }) {
            await publisher.replaceFencedProducers(since: generation)
        }
        tally(outcomes, into: &settlement)
        leases.held.withLock { $0.enter(.recording, deliveries) }
        settlement.settleDeadLetters(published: await deadLetters.publish(settlement.deadLetters.map { ($0.delivery, $0.letter) }))
        if !outcomes.isEmpty { faults.killIfDueBeforeFinishing(outcomes.count) }
        await recorder.finish(settlement.lockOutcomes)
    }

    private func logUnpublished(_ settlement: DeliverySettlement) {
        if !settlement.unreadable.isEmpty {
            context.logger.error(
                "series definitions that do not read here (is the tz database complete?); their occurrences are tried again in a minute",
                metadata: ["occurrences": "\(settlement.unreadable.map(\.message.id))"])
        }
        if !settlement.skipped.isEmpty {
            context.metrics.occurrencesSkipped.increment(by: settlement.skipped.count)
            context.logger.info(
                "series occurrences not published (tock-catchup, or left behind by a reschedule)",
                metadata: ["occurrences": "\(settlement.skipped.map(\.message.id))"])
        }
    }

    /// Looks for earlier attempts in their output partitions; returns what is still to publish.
    private func readBack(
        _ deliveries: [LockedDelivery], of slice: [LockedDelivery], partitions: [String: Int32], settlement: inout DeliverySettlement
    ) async -> [LockedDelivery] {
        let readBack = ReadBack(deliveries, partitions: partitions, skewMillis: Self.readBackSkewMillis)
        guard !readBack.ids.isEmpty, let lookup else { return deliveries }
        leases.held.withLock { $0.enter(.readBack, slice) }
        context.metrics.readBackChecked.increment(by: readBack.ids.count)
        var found: Set<String> = []
        var failure: DeliveryOutcome?
        do {
            found = try await lookup.find(
                header: "tock-id", values: readBack.ids, from: readBack.from, timeout: .milliseconds(Self.readBackTimeoutMillis))
        } catch {
            context.metrics.kafkaErrors.increment()
            context.logger.warning("reading output partitions back failed; those deliveries are retried", metadata: ["error": "\(error)"])
            failure = .notAttempted(detail: "read-back: \(error)")
        }
        let (publish, settled) = readBack.resolve(deliveries, found: found, failure: failure)
        let now = context.clock.nowMillis()
        var random = SystemRandomNumberGenerator()
        for (delivery, outcome) in settled {
            if outcome == .delivered {
                context.metrics.readBackFound.increment()
                context.logger.info(
                    "an earlier attempt is already in its partition; not published again",
                    metadata: ["id": "\(delivery.message.id)", "attempt": "\(delivery.attempt)"])
            }
            _ = settlement.record(delivery, outcome, nowMillis: now, using: &random)
        }
        return publish
    }

    /// Records the broker's answers in the settlement, with their metrics.
    private func tally(_ outcomes: [(LockedDelivery, Result<KafkaDeliveryReport, KafkaError>)], into settlement: inout DeliverySettlement) {
        let now = context.clock.nowMillis()
        let metrics = context.metrics
        var random = SystemRandomNumberGenerator()
        for (delivery, result) in outcomes {
            let outcome = DeliveryOutcome(result)
            switch outcome {
            case .failed, .rejected: metrics.kafkaErrors.increment()
            case .delivered, .notAttempted: break
            }
            switch settlement.record(delivery, outcome, nowMillis: now, using: &random) {
            case .delivered:
                metrics.firedDelivered.increment()
                var lateness: Int64?
                if case .success(let report) = result {
                    if delivery.attempt == 1, let timestamp = report.timestamp?.milliseconds {
                        lateness = max(0, timestamp - delivery.message.dueMillis)
                        metrics.fireLateness.recordMilliseconds(lateness!)
                    }
                    if let micros = report.latencyMicros { metrics.deliveryAck.recordMicroseconds(micros) }
                }
                context.state.activity.fired(nowMillis: now, latenessMillis: lateness)
            case .retry(let next):
                metrics.firedRetried.increment()
                metrics.retries[outcome.retryReason]?.increment()
                context.logger.info(
                    "delivery failed; retrying",
                    metadata: [
                        "id": "\(delivery.message.id)", "attempt": "\(delivery.attempt)", "retryInMs": "\(next - now)",
                        "error": "\(outcome.detail ?? "")",
                    ])
            case .deadLetter:
                break
            }
        }
    }
}
