import CRdKafka

/// One admin request (CreateTopics, DeleteTopics, DescribeTopics): its options and timeouts, a
/// result queue of its own, the wait for the result event, and the event's own error. Blocks:
/// call it on a dedicated thread.
enum KafkaAdminRequest {
    /// - Parameters:
    ///   - name: the request's name in errors, e.g. `CreateTopics`.
    ///   - waitsForOperation: whether the broker answers only once the operation is done (the
    ///     operation timeout, for requests that change topics).
    ///   - submit: sends the request with these options, its result going to this queue.
    ///   - read: reads the result event (destroyed after).
    static func run<Result>(
        _ rk: OpaquePointer, operation: rd_kafka_admin_op_t, name: String, timeoutMilliseconds: Int32, waitsForOperation: Bool,
        submit: (_ options: OpaquePointer, _ queue: OpaquePointer) -> Void, read: (_ event: OpaquePointer) throws -> Result
    ) throws -> Result {
        guard let options = rd_kafka_AdminOptions_new(rk, operation) else {
            throw KafkaError(code: .failed, message: "rd_kafka_AdminOptions_new failed", isRetriable: false)
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        if waitsForOperation { _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errstr, errstr.count) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errstr, errstr.count)

        let queue = KafkaQueue(client: rk)
        let event: OpaquePointer? = queue.withUnsafePointer { rkqu in
            submit(options, rkqu)
            // The request timeout bounds the wait; the margin covers librdkafka's own timer.
            return rd_kafka_queue_poll(rkqu, timeoutMilliseconds + 2000)
        }
        guard let event else { throw KafkaError(code: .timedOut, message: "\(name) got no result within \(timeoutMilliseconds) ms") }
        defer { rd_kafka_event_destroy(event) }
        let eventErr = rd_kafka_event_error(event)
        guard eventErr == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw KafkaError(eventErr, "\(name): \(text)")
        }
        return try read(event)
    }

    /// A request that creates or deletes topics: it waits for the operation (the broker answers
    /// once it is done, so callers can use the topics at once), and throws the first per-topic
    /// error other than `tolerated` (the topic already exists, or is already gone).
    /// - Parameter topicResults: the event's per-topic results; nil for an event of another type.
    static func changeTopics(
        _ rk: OpaquePointer, operation: rd_kafka_admin_op_t, name: String, action: String, tolerated: rd_kafka_resp_err_t,
        timeoutMilliseconds: Int32, submit: (_ options: OpaquePointer, _ queue: OpaquePointer) -> Void,
        topicResults: (_ event: OpaquePointer, _ count: inout Int) -> UnsafeMutablePointer<OpaquePointer?>??
    ) throws {
        try run(
            rk, operation: operation, name: name, timeoutMilliseconds: timeoutMilliseconds, waitsForOperation: true, submit: submit,
            read: { event in
                var count = 0
                guard let results = topicResults(event, &count) else {
                    throw KafkaError(code: .failed, message: "\(name): unexpected event type \(rd_kafka_event_type(event))", isRetriable: false)
                }
                try checkTopicResults(results, count: count, tolerated: tolerated, action: action)
            })
    }

    /// Throws the first per-topic error of a CreateTopics or DeleteTopics result other than
    /// `tolerated` (the topic already exists, or is already gone).
    static func checkTopicResults(
        _ results: UnsafeMutablePointer<OpaquePointer?>?, count: Int, tolerated: rd_kafka_resp_err_t, action: String
    ) throws {
        guard let results else { return }
        for index in 0..<count {
            guard let topicResult = results[index] else { continue }
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == tolerated { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(err))
            throw KafkaError(err, "\(action) topic \(name): \(text)")
        }
    }
}
