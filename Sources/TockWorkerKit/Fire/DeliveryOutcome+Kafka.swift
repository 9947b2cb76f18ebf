import TockCore
import TockKafka

extension DeliveryOutcome {
    /// A record's delivery report or produce failure, as `DeliveryPolicy` sees it: the detail is
    /// the error with its librdkafka name, e.g. `MSG_SIZE_TOO_LARGE`.
    init(_ result: Result<KafkaDeliveryReport, KafkaError>) {
        switch result {
        case .success:
            self = .delivered
        case .failure(let error) where error.code == .purgedQueued && !error.mayBePersisted:
            // Purged from the queue (withheld, or kept out by a full queue past its time): never sent.
            // One that a failed request had sent (librdkafka says it may be persisted) is a failed
            // attempt: counted, so the next one reads its partition back first.
            self = .notAttempted(detail: "\(error)")
        case .failure(let error):
            self = error.rejectsRecord ? .rejected(detail: "\(error)") : .failed(detail: "\(error)")
        }
    }
}
