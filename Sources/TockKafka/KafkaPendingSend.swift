/// Records handed to librdkafka by `KafkaProducer.enqueue`, whose delivery reports are still to come.
public struct KafkaPendingSend: Sendable {
    let producer: KafkaProducer
    let records: [KafkaProducerRecord]
    let batch: KafkaDeliveryBatch
    let next: Int

    /// One result per record, in order, once every delivery report has arrived. Records a full
    /// queue kept out are enqueued as room frees up, but not after `enqueueBy`: from then on
    /// they fail unsent (the caller's right to send them may have run out).
    public func results(enqueueBy: ContinuousClock.Instant? = nil) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        guard !records.isEmpty else { return [] }
        return await producer.finish(records, batch: batch, next: next, enqueueBy: enqueueBy)
    }
}
