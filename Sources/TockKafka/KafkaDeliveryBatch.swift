import Synchronization

/// Collects the outcomes of one `send` call: one slot per record, filled by delivery reports (on
/// the polling thread) or by synchronous produce failures, and awaited once.
final class KafkaDeliveryBatch: Sendable {
    typealias Outcome = Result<KafkaDeliveryReport, KafkaError>

    private struct State {
        var results: [Outcome?]
        var remaining: Int
        var continuation: CheckedContinuation<[Outcome], Never>?

        /// Every outcome, once the last is in.
        var finished: [Outcome]? { remaining == 0 ? results.map { $0! } : nil }
    }

    let topics: [String]
    private let state: Mutex<State>

    init(topics: [String]) {
        self.topics = topics
        state = Mutex(State(results: Array(repeating: nil, count: topics.count), remaining: topics.count, continuation: nil))
    }

    /// First outcome wins: a report arriving after `failUnfinished` is ignored.
    func complete(_ index: Int, _ outcome: Outcome) {
        let finished: (CheckedContinuation<[Outcome], Never>, [Outcome])? = state.withLock { state in
            guard state.results[index] == nil else { return nil }
            state.results[index] = outcome
            state.remaining -= 1
            guard let results = state.finished, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, results)
        }
        if let (continuation, results) = finished { continuation.resume(returning: results) }
    }

    /// Resolves every record that has no outcome yet, e.g. when the producer shuts down.
    func failUnfinished(with error: KafkaError, from start: Int = 0) {
        for index in start..<topics.count { complete(index, .failure(error)) }
    }

    /// Suspends until every record has an outcome.
    func wait() async -> [Outcome] {
        // Most batches of a publish schedule are complete by the time they are awaited: no
        // suspension, no thread hop.
        if let ready = state.withLock({ $0.finished }) { return ready }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[Outcome], Never>) in
            let ready: [Outcome]? = state.withLock { state in
                if let finished = state.finished { return finished }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// The per-message opaque handed to librdkafka: which batch and which record.
final class KafkaDeliverySlot: Sendable {
    let batch: KafkaDeliveryBatch
    let index: Int

    init(batch: KafkaDeliveryBatch, index: Int) {
        self.batch = batch
        self.index = index
    }
}
