import Testing
import TockKafka

/// Which librdkafka errors mean a record can never be delivered (`KafkaError.rejectsRecord`).
/// Pure: no broker.
@Suite struct KafkaErrorClassificationTests {
    @Test func aRecordLibrdkafkaRefusesForItsSizeOrArgumentsIsRejected() {
        for code in [KafkaError.Code.messageSizeTooLarge, .invalidMessageSize, .invalidArgument] {
            #expect(KafkaError(code: code, message: "", refusedBeforeSending: true).rejectsRecord, "\(code)")
        }
    }

    @Test func aSizeOrValidationErrorFromTheBrokerIsNotRejected() {
        // It fails the record's whole batch: the record may fit alone.
        for code in [KafkaError.Code.messageSizeTooLarge, .invalidMessageSize, .recordListTooLarge, .invalidRecord, .invalidArgument] {
            #expect(!KafkaError(code: code, message: "").rejectsRecord, "\(code)")
        }
    }

    @Test func aTopicTheBrokerRefusesIsRejected() {
        for code in [KafkaError.Code.invalidTopic, .topicAuthorizationFailed, .unsupportedForMessageFormat] {
            #expect(KafkaError(code: code, message: "").rejectsRecord, "\(code)")
            #expect(KafkaError(code: code, message: "", refusedBeforeSending: true).rejectsRecord, "\(code)")
        }
    }

    @Test func conditionsOfTheMomentAreNotRejected() {
        let transient: [KafkaError.Code] = [
            .messageTimedOut, .timedOut, .requestTimedOut, .transport, .allBrokersDown, .queueFull,
            .unknownTopic, .unknownPartition, .unknownTopicOrPartition, .leaderNotAvailable, .notLeaderForPartition,
            .outOfOrderSequenceNumber, .fatal, .destroyed, .purgedQueued, .purgedInFlight, .interrupted, .state,
            .clusterAuthorizationFailed, .failed, .badMessage, KafkaError.Code(rawValue: 9_999),
        ]
        for code in transient {
            #expect(!KafkaError(code: code, message: "").rejectsRecord, "\(code)")
            #expect(!KafkaError(code: code, message: "", refusedBeforeSending: true).rejectsRecord, "\(code)")
        }
    }
}
