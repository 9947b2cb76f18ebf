import TockConcurrency
import TockKafka
import TockRuntime

extension DependencyProbe {
    /// A Kafka broker answers a metadata request within `checkTimeout`; passes while `producer`
    /// gives none yet (the process reports why it is not ready otherwise).
    public static func kafkaBroker(_ producer: @escaping @Sendable () -> KafkaProducer?) -> Check {
        let thread = BlockingThread(name: "tock-readiness-kafka")
        return Check(name: "kafka") {
            guard let producer = producer() else { return }
            try await producer.checkBroker(timeout: checkTimeout, on: thread)
        }
    }
}
