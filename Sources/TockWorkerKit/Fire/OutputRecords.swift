import TockCore
import TockKafka

/// The records Tock writes: the output record of a fired message (SPEC "The output record"),
/// its dead-letter form, and the rejection of a bad request.
enum OutputRecords {
    /// `series`: the series id of an occurrence (`tock-series`).
    static func output(_ message: ScheduledMessage, attempt: Int, series: String? = nil) -> KafkaProducerRecord {
        var headers: [KafkaHeader] = []
        // Room for Tock's three, the dead-letter four and `tock-published-us`: no regrowth.
        headers.reserveCapacity(message.headers.count + 8)
        for header in message.headers { headers.append(KafkaHeader(key: header.key, value: header.value)) }
        headers.append(KafkaHeader(key: "tock-id", string: message.id))
        headers.append(KafkaHeader(key: "tock-at", string: String(message.dueMillis)))
        headers.append(KafkaHeader(key: "tock-attempt", string: String(attempt)))
        if let series { headers.append(KafkaHeader(key: "tock-series", string: series)) }
        return KafkaProducerRecord(topic: message.topic, key: message.key, value: message.value, headers: headers)
    }

    /// The output record, to `deadTopic`, with why it could not be delivered. `tock-topic` names
    /// the topic it was meant for. Without `payload` (it was too large to produce even there), the
    /// value is empty and `tock-payload-dropped` gives its size; a null value has nothing to drop
    /// and stays null.
    static func dead(
        _ message: ScheduledMessage, attempt: Int, series: String? = nil, deadTopic: String, error: String, detail: String,
        payload: Bool = true
    ) -> KafkaProducerRecord {
        var record = output(message, attempt: attempt, series: series)
        record.topic = deadTopic
        record.headers.append(KafkaHeader(key: "tock-error", string: error))
        record.headers.append(KafkaHeader(key: "tock-error-detail", string: detail))
        record.headers.append(KafkaHeader(key: "tock-topic", string: message.topic))
        if !payload {
            record.headers.append(KafkaHeader(key: "tock-payload-dropped", string: String(message.value?.count ?? 0)))
            if message.value != nil { record.value = [] }
        }
        return record
    }

    static func rejected(_ record: InputRecord, rejection: RequestRejection, rejectedTopic: String) -> KafkaProducerRecord {
        var headers = record.headers.map { KafkaHeader(key: $0.key, value: $0.value) }
        headers.append(KafkaHeader(key: "tock-error", string: rejection.code.rawValue))
        headers.append(KafkaHeader(key: "tock-error-detail", string: rejection.detail))
        headers.append(KafkaHeader(key: "tock-source", string: record.source))
        return KafkaProducerRecord(topic: rejectedTopic, key: record.key, value: record.value, headers: headers)
    }
}

extension InputRecord {
    init(_ message: KafkaConsumerMessage) {
        self.init(
            topic: message.topic, partition: message.partition, offset: message.offset,
            timestampMillis: message.timestamp?.milliseconds,
            key: message.key, value: message.value,
            headers: message.headers.map { RecordHeader(key: $0.key, value: $0.value) }
        )
    }
}
