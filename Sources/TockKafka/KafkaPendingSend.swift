/// Records handed to librdkafka by `KafkaProducer.enqueue`, whose delivery reports are still to come.
public struct KafkaPendingSend: Sendable {
    let producer: KafkaProducer
    let records: [KafkaProducerRecord]
    let batch: KafkaDeliveryBatch
    let next: Int

    /// One result per record, in order, once every delivery report has arrived.
    public func results() async -> [Result<KafkaDeliveryReport, KafkaError>] {
        guard !records.isEmpty else { return [] }
        return await producer.finish(records, batch: batch, next: next)
    }
}
