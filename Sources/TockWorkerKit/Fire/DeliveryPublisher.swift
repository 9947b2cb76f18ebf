import Logging
import TockCore
import TockKafka
import TockStore
import TockTiming

/// Publishes locked deliveries at their due time: one publish-gate job per due millisecond, each
/// record enqueued (and its CreateTime stamped) on the gate's thread the moment the clock reaches
/// it, if `PublishAdmission` admits it.
final class DeliveryPublisher: Sendable {
    let context: FireContext
    let sink: any RecordSink
    let leases: LeaseKeeper
    /// Publishes from a thread of its own.
    let gate: DueGate

    init(context: FireContext, sink: any RecordSink, leases: LeaseKeeper) {
        self.context = context
        self.sink = sink
        self.leases = leases
        gate = DueGate(clock: context.clock, name: "tock-publish")
    }

    func stop() { gate.stop() }

    /// The batch waits once for the whole schedule, then for reports that have mostly arrived by
    /// then. `notBefore`: rate limits' slots, by entry.
    func publish(
        _ toSend: [LockedDelivery], partitions: [String: Int32], notBefore: [String: Int64] = [:]
    ) async -> [(LockedDelivery, Result<KafkaDeliveryReport, KafkaError>)] {
        let groups = Dictionary(grouping: toSend) { max(PublishSlices.publishMillis($0), notBefore[$0.entry] ?? .min) }.sorted { $0.key < $1.key }
        let stamp = context.configuration.delivery.publishedHeader
        let producerTimeout = context.leaseTerms.producerTimeout
        let sends = await gate.run(
            schedule: groups.map { at, members in
                let records = members.map { delivery in
                    var record = OutputRecords.output(delivery.message, attempt: delivery.attempt, series: delivery.series?.id)
                    record.partition = partitions[delivery.message.id]
                    return record
                }
                return (
                    at,
                    { [sink, context, leases] in
                        // Reports of earlier records are served here, in this wake-up, not in one of their own.
                        defer { sink.serveDeliveryReports() }
                        // Every record carries the time checked as its CreateTime: a thread preempted between the
                        // check and the hand-off cannot move it out of its slot, and it is the reference clock's
                        // time (SPEC guarantee 5), which librdkafka's stamp, the host's wall clock, need not be.
                        let now = context.clock.nowMillis()
                        let admission = leases.held.withLock {
                            PublishAdmission(
                                members, notBefore: notBefore, nowMillis: now, now: .now, producerTimeout: producerTimeout, held: &$0)
                        }
                        var toEnqueue: [KafkaProducerRecord] = []
                        toEnqueue.reserveCapacity(records.count)
                        for (index, record) in records.enumerated() where admission.holds[index] {
                            var record = record
                            record.timestamp = now
                            toEnqueue.append(record)
                        }
                        if stamp {
                            let published = KafkaHeader(key: "tock-published-us", string: String(context.clock.nowMicros()))
                            for index in toEnqueue.indices { toEnqueue[index].headers.append(published) }
                        }
                        // A full queue may keep some back; they may be enqueued only while the lease still covers the timeout.
                        return (admission, sink.enqueueRecords(toEnqueue))
                    }
                )
            })
        var outcomes: [(LockedDelivery, Result<KafkaDeliveryReport, KafkaError>)] = []
        outcomes.reserveCapacity(toSend.count)
        var withheld = 0
        for ((_, members), (admission, pending)) in zip(groups, sends) {
            for (delivery, outcome) in admission.outcomes(members, reports: await pending.results(enqueueBy: admission.enqueueBy)) {
                switch outcome {
                case .reported: break
                case .missedSlot:
                    if let glob = context.configuration.output.rateLimits.limit(for: delivery.message.topic)?.glob {
                        context.metrics.rateLimitRequeued[glob]?.increment()
                    }
                case .leaseRanOut: withheld += 1
                }
                outcomes.append((delivery, outcome.result))
            }
        }
        if withheld > 0 {
            context.metrics.leaseWithheld.increment(by: withheld)
            context.logger.warning(
                "not published: the delivery locks' leases ran out first; they are retried after a read-back", metadata: ["deliveries": "\(withheld)"]
            )
        }
        return outcomes
    }

    /// Each delivery's output partition, fixed before publishing (`KafkaKeyPartitioner`), so that
    /// the next owner knows where to look for it; none for a topic the broker does not know yet.
    /// A first attempt never waits for a partition count (ingest looked it up already; one not
    /// known yet leaves the record to librdkafka's partitioner), a later one does: it is read back.
    func outputPartitions(_ deliveries: [LockedDelivery]) async -> [String: Int32] {
        let readBackTopics = Set(deliveries.filter(ReadBack.isLookedFor).map(\.message.topic))
        var counts: [String: Int32?] = [:]
        for topic in Set(deliveries.map(\.message.topic)) {
            counts[topic] = readBackTopics.contains(topic) ? await sink.partitionCount(of: topic) : sink.knownPartitionCount(of: topic)
        }
        let partitioner = sink.outputPartitioner
        var partitions: [String: Int32] = [:]
        partitions.reserveCapacity(deliveries.count)
        for delivery in deliveries {
            let message = delivery.message
            if let count = counts[message.topic] ?? nil, let partition = partitioner.partition(key: message.key, id: message.id, count: count) {
                partitions[message.id] = partition
            }
        }
        return partitions
    }

    /// The broker refuses a producer whose epoch it fenced for good; its deliveries failed and are
    /// retried, through new producers.
    func replaceFencedProducers(since generation: Int) async {
        do {
            // Slices published through the same fenced producers ask too: the first one replaces them.
            guard try await sink.replace(ifGeneration: generation) else { return }
            context.metrics.producersReplaced.increment()
            context.logger.warning("the broker fenced the output producer; replaced it")
        } catch {
            context.metrics.kafkaErrors.increment()
            context.logger.error("could not replace the fenced output producer", metadata: ["error": "\(error)"])
        }
    }
}
