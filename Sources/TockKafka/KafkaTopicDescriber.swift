import CRdKafka
import Foundation

/// Topic ids (KIP-516), read with `rd_kafka_DescribeTopics` (librdkafka 2.3.0 and later). The
/// build's headers are Debian's 2.0.2, which lack it, so its symbols are resolved at run time from
/// the loaded library. With a library that has none of them (2.2.x) `shared` is nil, and callers
/// tell partitions apart without topic ids.
///
/// Immutable C function pointers: safe to share.
final class KafkaTopicDescriber: @unchecked Sendable {
    typealias OfTopicNames = @convention(c) (UnsafeMutablePointer<UnsafePointer<CChar>?>?, Int) -> OpaquePointer?
    typealias Destroy = @convention(c) (OpaquePointer?) -> Void
    typealias Describe = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Void
    typealias Pointer = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias Descriptions = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> UnsafeMutablePointer<OpaquePointer?>?
    typealias Text = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?

    static let shared: KafkaTopicDescriber? = KafkaTopicDescriber()

    /// A broker without topic ids answers the zero UUID.
    static let zeroID = "AAAAAAAAAAAAAAAAAAAAAA"

    private let collectionOfNames: OfTopicNames
    private let destroyCollection: Destroy
    private let describeTopics: Describe
    private let eventResult: Pointer
    private let resultTopics: Descriptions
    private let descriptionName: Text
    private let descriptionError: Pointer
    private let descriptionTopicID: Pointer
    private let uuidBase64: Text

    private init?() {
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            // RTLD_DEFAULT (a null handle): librdkafka is loaded as a dependency of the executable.
            guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
            return unsafeBitCast(address, to: type)
        }
        guard let collectionOfNames = symbol("rd_kafka_TopicCollection_of_topic_names", as: OfTopicNames.self),
            let destroyCollection = symbol("rd_kafka_TopicCollection_destroy", as: Destroy.self),
            let describeTopics = symbol("rd_kafka_DescribeTopics", as: Describe.self),
            let eventResult = symbol("rd_kafka_event_DescribeTopics_result", as: Pointer.self),
            let resultTopics = symbol("rd_kafka_DescribeTopics_result_topics", as: Descriptions.self),
            let descriptionName = symbol("rd_kafka_TopicDescription_name", as: Text.self),
            let descriptionError = symbol("rd_kafka_TopicDescription_error", as: Pointer.self),
            let descriptionTopicID = symbol("rd_kafka_TopicDescription_topic_id", as: Pointer.self),
            let uuidBase64 = symbol("rd_kafka_Uuid_base64str", as: Text.self)
        else { return nil }
        self.collectionOfNames = collectionOfNames
        self.destroyCollection = destroyCollection
        self.describeTopics = describeTopics
        self.eventResult = eventResult
        self.resultTopics = resultTopics
        self.descriptionName = descriptionName
        self.descriptionError = descriptionError
        self.descriptionTopicID = descriptionTopicID
        self.uuidBase64 = uuidBase64
    }

    /// Each topic's id (base64, as Kafka's tools print it). A topic the broker does not know, or
    /// gives no id for, is left out. Blocks: call it on a dedicated thread.
    func topicIDs(_ rk: OpaquePointer, topics: [String], timeoutMilliseconds: Int32) throws -> [String: String] {
        guard !topics.isEmpty else { return [:] }
        let names = topics.map { strdup($0) }
        defer { for name in names { free(name) } }
        var pointers: [UnsafePointer<CChar>?] = names.map { UnsafePointer($0) }
        guard let collection = pointers.withUnsafeMutableBufferPointer({ collectionOfNames($0.baseAddress, $0.count) }) else {
            throw KafkaError(code: .failed, message: "rd_kafka_TopicCollection_of_topic_names failed", isRetriable: false)
        }
        defer { destroyCollection(collection) }
        return try KafkaAdminRequest.run(
            rk, operation: RD_KAFKA_ADMIN_OP_ANY, name: "DescribeTopics", timeoutMilliseconds: timeoutMilliseconds, waitsForOperation: false,
            submit: { options, queue in describeTopics(rk, collection, options, queue) },
            read: { event in
                guard let result = eventResult(event) else {
                    throw KafkaError(
                        code: .failed, message: "DescribeTopics: unexpected event type \(rd_kafka_event_type(event))", isRetriable: false)
                }
                var count = 0
                guard let descriptions = resultTopics(result, &count) else { return [:] }
                return ids(descriptions, count: count)
            })
    }

    /// The ids of the described topics that have one.
    private func ids(_ descriptions: UnsafeMutablePointer<OpaquePointer?>, count: Int) -> [String: String] {
        var ids: [String: String] = [:]
        for index in 0..<count {
            guard let description = descriptions[index], let name = descriptionName(description) else { continue }
            if let error = descriptionError(description), rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            guard let uuid = descriptionTopicID(description), let text = uuidBase64(uuid) else { continue }
            let id = String(cString: text)
            if id != Self.zeroID { ids[String(cString: name)] = id }
        }
        return ids
    }
}
