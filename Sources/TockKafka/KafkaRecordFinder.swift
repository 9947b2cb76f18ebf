import CRdKafka
import Dispatch
import Logging
import Synchronization
import TockConcurrency

/// Reads partitions back to find records by a header's value: before a delivery whose lease ran
/// out is published again, its shard's owner looks for its `tock-id` where the earlier attempt
/// would have written it.
///
/// A consumer that never joins a group: each pass assigns the partitions from the offsets of a
/// time (`offsetsForTimes`), reads each to its end as it was when the pass began, and unassigns.
///
/// Passes run one at a time on a thread of their own, and one pass serves every call waiting when
/// it begins (`Search.merged`): after a stall or a shard move, hundreds of slices ask at once, and
/// one read of their partitions answers them all, where a pass each made the last wait for all
/// the others (seen: 18 s queued behind passes of 100–300 ms, past the deliveries' leases). A
/// call's timeout counts from the call, its wait for earlier passes included; a pass runs until
/// the latest deadline of the calls it serves.
public final class KafkaRecordFinder: Sendable {
    /// One call's question.
    struct Search {
        var header: String
        var wanted: Set<String>
        var starts: [KafkaTopicPartition: Int64]

        /// One search for several: every value wanted by any, each partition from the earliest
        /// time any starts it at. All must look for the same header.
        static func merged(_ searches: [Search]) -> Search {
            var merged = Search(header: searches.first?.header ?? "", wanted: [], starts: [:])
            for search in searches {
                merged.wanted.formUnion(search.wanted)
                merged.starts.merge(search.starts, uniquingKeysWith: min)
            }
            return merged
        }
    }

    private struct Waiting {
        var search: Search
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Set<String>, Error>
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var passRunning = false
    }

    private let client: KafkaClientHandle
    private let thread: BlockingThread
    private let queue = Mutex(Queue())

    public init(brokers: String, properties: [String: String] = [:], logger: Logger = Logger(label: "tock.kafka.finder")) throws {
        // The caller's properties (security, timeouts) first; what reading back needs wins.
        var merged = properties
        merged.merge([
            "bootstrap.servers": brokers,
            // assign() needs no group; librdkafka wants an id all the same, and nothing is committed.
            "group.id": "tock-record-finder",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "true",
            // Every record counts, committed or not, and a start offset that is gone is an error,
            // not a silent jump to the end.
            "isolation.level": "read_uncommitted",
            "auto.offset.reset": "error",
            "client.id": "tock-finder",
        ]) { _, new in new }
        client = try KafkaClientHandle(
            kind: .consumer, configuration: try KafkaConfiguration(merged),
            callbacks: KafkaClientCallbacks(logger: logger, rebalanceHandler: nil))
        thread = BlockingThread(name: "\(client.name)-find")
        try client.withHandle { rk in
            let err = rd_kafka_poll_set_consumer(rk)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "rd_kafka_poll_set_consumer") }
        }
    }

    deinit {
        let client = self.client
        thread.submit { client.destroy() }
    }

    /// The values of `header`, among `wanted`, carried by records of each partition from the
    /// first record stamped at or after its time (epoch ms) to the partition's end. Throws when
    /// a partition could not be read to its end within `timeout`: then nothing can be said.
    public func find(
        header: String, values wanted: Set<String>, from starts: [KafkaTopicPartition: Int64],
        timeout: Duration
    ) async throws -> Set<String> {
        guard !wanted.isEmpty, !starts.isEmpty else { return [] }
        let deadline = ContinuousClock.now + timeout
        return try await withCheckedThrowingContinuation { continuation in
            let startPasses = queue.withLock { queue in
                queue.waiting.append(
                    Waiting(search: Search(header: header, wanted: wanted, starts: starts), deadline: deadline, continuation: continuation))
                defer { queue.passRunning = true }
                return !queue.passRunning
            }
            if startPasses { thread.submit { [self] in runPasses() } }
        }
    }

    /// On the finder's thread: one pass per header for everything waiting, until nothing is.
    private func runPasses() {
        while true {
            let waiting = queue.withLock { queue in
                defer { queue.waiting = [] }
                if queue.waiting.isEmpty { queue.passRunning = false }
                return queue.waiting
            }
            guard !waiting.isEmpty else { return }
            for (_, calls) in Dictionary(grouping: waiting, by: \.search.header) {
                let now = ContinuousClock.now
                for call in calls where call.deadline <= now {
                    call.continuation.resume(throwing: KafkaError(code: .timedOut, message: "read-back waited past its timeout for earlier ones"))
                }
                let live = calls.filter { $0.deadline > now }
                // The latest deadline among them: one call about to expire must not fail a pass the
                // fresher ones have time for. An earlier call is then answered when the pass ends,
                // which may be past its own timeout.
                guard let deadline = live.map(\.deadline).max() else { continue }
                let search = Search.merged(live.map(\.search))
                do {
                    let found = try client.withHandle { rk in
                        try Self.find(
                            rk, header: search.header, wanted: search.wanted, starts: search.starts,
                            timeoutMilliseconds: (deadline - now).kafkaMilliseconds)
                    }
                    for call in live { call.continuation.resume(returning: found.intersection(call.search.wanted)) }
                } catch {
                    for call in live { call.continuation.resume(throwing: error) }
                }
            }
        }
    }

    private static func find(
        _ rk: OpaquePointer, header: String, wanted: Set<String>, starts: [KafkaTopicPartition: Int64],
        timeoutMilliseconds: Int32
    ) throws -> Set<String> {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
        func remaining() -> Int32 {
            let now = DispatchTime.now().uptimeNanoseconds
            return now >= deadline ? 0 : Int32(clamping: (deadline - now) / 1_000_000)
        }
        let partitions = Array(starts.keys)
        // Each partition is read at least up to its end as of now, taken before the start offsets.
        // What the broker answers may stop short (the local broker's is one record into its newest
        // batch), so each end is raised to the high watermark of the first fetch that reads the
        // partition; reading on past records written since is harmless (docs/never-twice.md).
        var highs: [KafkaTopicPartition: Int64] = [:]
        for partition in partitions {
            highs[partition] = try KafkaClientHandle.watermarks(
                rk, topic: partition.topic, partition: partition.partition,
                timeoutMilliseconds: max(1, remaining())
            ).high
        }
        let times = KafkaTopicPartitionList(capacity: partitions.count)
        for partition in partitions { times.add(topic: partition.topic, partition: partition.partition, offset: max(0, starts[partition]!)) }
        let err = times.withUnsafeMutablePointer { rd_kafka_offsets_for_times(rk, $0, max(1, remaining())) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "offsets for times: \(String(cString: rd_kafka_err2str(err)))") }
        if let failed = times.firstError("offsets for times") { throw failed }

        var ends: [KafkaTopicPartition: Int64] = [:]
        let assignment = KafkaTopicPartitionList(capacity: partitions.count)
        for element in times.elements {
            let partition = KafkaTopicPartition(topic: element.topic, partition: element.partition)
            let high = highs[partition] ?? 0
            // No record stamped at or after its time: nothing to read (a broker that answers with
            // an offset regardless has its partition read).
            guard element.offset >= 0 else { continue }
            ends[partition] = max(high, element.offset)
            assignment.add(topic: element.topic, partition: element.partition, offset: element.offset)
        }
        guard !ends.isEmpty else { return [] }
        let assigned = assignment.withUnsafeMutablePointer { rd_kafka_assign(rk, $0) }
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(assigned, "assign for read-back") }
        defer { _ = rd_kafka_assign(rk, nil) }

        var found: Set<String> = []
        var raised: Set<KafkaTopicPartition> = []
        while !ends.isEmpty {
            let wait = remaining()
            guard wait > 0 else {
                throw KafkaError(
                    code: .timedOut, message: "read-back did not reach the end of \(ends.keys.map { "\($0.topic)/\($0.partition)" }.sorted())")
            }
            guard let message = rd_kafka_consumer_poll(rk, min(wait, 100)) else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
            let partition = KafkaTopicPartition(topic: topic, partition: m.partition)
            // Once per partition, from the first event that brings a valid high watermark.
            if m.rkt != nil, let end = ends[partition], !raised.contains(partition) {
                var low: Int64 = 0
                var high: Int64 = -1
                if rd_kafka_get_watermark_offsets(rk, topic, m.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 {
                    raised.insert(partition)
                    if high > end { ends[partition] = high }
                }
            }
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                // The end of what this fetch may see, which may stop short of the end taken above.
                if let end = ends[partition], m.offset >= end { ends[partition] = nil }
                continue
            }
            guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if m.rkt != nil { throw KafkaError(m.err, "read-back of \(topic)/\(m.partition): \(String(cString: rd_kafka_err2str(m.err)))") }
                continue
            }
            if let value = headerValue(message, header), wanted.contains(value) { found.insert(value) }
            if let end = ends[partition], m.offset + 1 >= end { ends[partition] = nil }
        }
        return found
    }

    /// The first record of each partition at or after its offset, or nil for a partition with none
    /// there (the offset is below its log start, or at its end). Throws when a partition could not
    /// be read within `timeout`: then nothing can be said. For records known to exist: a partition
    /// read at its end waits for the timeout.
    public func records(at positions: [KafkaTopicPartition: Int64], timeout: Duration) async throws -> [KafkaTopicPartition: KafkaConsumerMessage?] {
        guard !positions.isEmpty else { return [:] }
        let milliseconds = timeout.kafkaMilliseconds
        return try await thread.run { [client] in
            try client.withHandle { rk in try Self.records(rk, at: positions, timeoutMilliseconds: milliseconds) }
        }
    }

    private static func records(_ rk: OpaquePointer, at positions: [KafkaTopicPartition: Int64], timeoutMilliseconds: Int32) throws
        -> [KafkaTopicPartition: KafkaConsumerMessage?]
    {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
        let assignment = KafkaTopicPartitionList(capacity: positions.count)
        for (partition, offset) in positions { assignment.add(topic: partition.topic, partition: partition.partition, offset: offset) }
        let assigned = assignment.withUnsafeMutablePointer { rd_kafka_assign(rk, $0) }
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(assigned, "assign to look records up") }
        defer { _ = rd_kafka_assign(rk, nil) }

        var found: [KafkaTopicPartition: KafkaConsumerMessage?] = [:]
        while found.count < positions.count {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                let missing = positions.keys.filter { found[$0] == nil }.map { "\($0.topic)/\($0.partition)@\(positions[$0]!)" }.sorted()
                throw KafkaError(code: .timedOut, message: "no answer for the records at \(missing)")
            }
            guard let message = rd_kafka_consumer_poll(rk, Int32(clamping: min(100, (deadline - now) / 1_000_000 + 1))) else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            guard let rkt = m.rkt else { continue }
            let topic = String(cString: rd_kafka_topic_name(rkt))
            let partition = KafkaTopicPartition(topic: topic, partition: m.partition)
            guard let wanted = positions[partition], found[partition] == nil else { continue }
            switch m.err {
            case RD_KAFKA_RESP_ERR_NO_ERROR where m.offset >= wanted:
                found[partition] = KafkaConsumerMessage(copying: message, topic: topic)
            case RD_KAFKA_RESP_ERR__PARTITION_EOF where m.offset <= wanted,
                RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
                found[partition] = .some(nil)
            case RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR__PARTITION_EOF:
                continue
            default:
                throw KafkaError(m.err, "looking up \(topic)/\(m.partition)@\(wanted): \(String(cString: rd_kafka_err2str(m.err)))")
            }
        }
        return found
    }

    private static func headerValue(_ message: UnsafeMutablePointer<rd_kafka_message_t>, _ name: String) -> String? {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return nil }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(list, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let value else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: value, count: size), as: UTF8.self)
    }
}
