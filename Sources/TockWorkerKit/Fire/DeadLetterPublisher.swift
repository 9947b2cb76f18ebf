import Logging
import TockCore
import TockKafka
import TockStore

/// Publishes deliveries that will not be delivered to the dead-letter topic (`kafka.deadTopic`),
/// with their code and detail; one too large for it goes again without its payload.
struct DeadLetterPublisher: Sendable {
    let context: FireContext
    let sink: any RecordSink

    /// Returns the ids of those now done; the others' leases run out and they are retried.
    func publish(_ dead: [(LockedDelivery, DeadLetter)]) async -> Set<String> {
        guard !dead.isEmpty else { return [] }
        var done: Set<String> = []
        let first = await sink.send(dead.map { record($0, payload: true) })
        var again: [(LockedDelivery, DeadLetter)] = []
        for (letter, result) in zip(dead, first) {
            if case .success = result { done.insert(letter.0.message.id) } else { again.append(letter) }
        }
        // A payload too large for the output topic is usually too large here too: keep the record,
        // drop the payload.
        if !again.isEmpty {
            for ((delivery, _), result) in zip(again, await sink.send(again.map { record($0, payload: false) })) {
                switch result {
                case .success: done.insert(delivery.message.id)
                case .failure(let error):
                    context.metrics.kafkaErrors.increment()
                    context.logger.error(
                        "cannot dead-letter; the lease will expire and it is retried",
                        metadata: ["id": "\(delivery.message.id)", "error": "\(error)"])
                }
            }
        }
        context.metrics.firedDead.increment(by: done.count)
        for (delivery, letter) in dead where done.contains(delivery.message.id) {
            context.metrics.deadLetters[letter.code]?.increment()
            context.state.activity.deadLettered(letter.code.rawValue)
            context.logger.warning(
                "dead-lettered",
                metadata: [
                    "id": "\(delivery.message.id)", "attempt": "\(delivery.attempt)", "code": "\(letter.code.rawValue)", "error": "\(letter.detail)",
                ])
        }
        return done
    }

    private func record(_ letter: (LockedDelivery, DeadLetter), payload: Bool) -> KafkaProducerRecord {
        let (delivery, dead) = letter
        return OutputRecords.dead(
            delivery.message, attempt: delivery.attempt, series: delivery.series?.id, deadTopic: context.configuration.kafka.deadTopic,
            error: dead.code.rawValue, detail: dead.detail, payload: payload)
    }
}
