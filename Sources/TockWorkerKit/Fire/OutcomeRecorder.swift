import Logging
import Synchronization
import TockCore
import TockStore

/// Records what became of each lock's deliveries (`finish`), retrying while Redis is unreachable:
/// an outcome that never lands means the message is published again after its lease (SPEC
/// guarantee 3's window). Retries due soon come back into the wheel.
final class OutcomeRecorder: Sendable {
    let context: FireContext
    /// A store on connections of its own: an outcome must not wait behind an ingest batch or a claim.
    let store: any DeliveryStore
    let wheel: DeliveryWheel

    init(context: FireContext, store: any DeliveryStore, wheel: DeliveryWheel) {
        self.context = context
        self.store = store
        self.wheel = wheel
    }

    func finish(_ locks: [LockOutcome]) async {
        guard !locks.isEmpty else { return }
        // Only what failed is tried again: on a cluster, one master failing over holds up no other's.
        let remaining = Mutex(locks)
        await recordPersistently("delivery outcomes") {
            let locks = remaining.withLock { $0 }
            let results = try await self.store.finishEach(locks, as: self.context.state.ownerships, nowMillis: self.context.clock.nowMillis())
            var failed: [LockOutcome] = []
            var firstError: StoreError?
            for (lock, result) in zip(locks, results) {
                switch result {
                case .success(let finished):
                    self.wheel.insert(finished.claimed.map { ($0.id, $0.nextMillis) })
                    self.context.metrics.seriesEnded.increment(by: finished.seriesEnded)
                case .failure(let error):
                    failed.append(lock)
                    firstError = firstError ?? error
                }
            }
            remaining.withLock { $0 = failed }
            if let firstError { throw firstError }
        }
    }

    /// Runs an outcome-recording call until it succeeds, backing off, for up to ~25 s; after that
    /// the lock's expiry takes over (the message is retried).
    func recordPersistently(_ what: String, _ body: @Sendable () async throws -> Void) async {
        for attempt in 1...20 {
            do {
                try await body()
                return
            } catch {
                context.redisFailed("recording \(what) failed", error: error, metadata: ["attempt": "\(attempt)"])
                try? await Task.sleep(for: .milliseconds(min(2_000, 50 * attempt * attempt)))
            }
        }
        context.logger.error("gave up recording \(what); they are retried when their lock expires")
    }
}
