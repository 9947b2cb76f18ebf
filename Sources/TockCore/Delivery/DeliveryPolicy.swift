/// How one publish attempt of a fired message ended.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    /// A condition a later attempt may outlive: a broker down, a timeout, a leader election, a
    /// topic not created yet.
    case failed(detail: String)
    /// The record can never be accepted as it is, where it goes: it is larger than the producer
    /// allows, its topic name is invalid, Tock may not write to its topic. Retrying only delays
    /// the dead letter.
    case rejected(detail: String)
    /// The record never left: it was withheld (its lock's lease could not be vouched for), failed
    /// unsent, or could not be checked against an earlier attempt. Tried again without counting an
    /// attempt, so this alone never dead-letters a message.
    case notAttempted(detail: String)

    /// Why a retry follows this outcome, as the label of `tock_retries_total{reason}`.
    public var retryReason: String {
        switch self {
        case .delivered: "none"
        case .failed: "delivery-failed"
        case .rejected: "delivery-rejected"
        case .notAttempted: "not-attempted"
        }
    }

    /// The error of a failed, rejected or unmade attempt.
    public var detail: String? {
        switch self {
        case .delivered: nil
        case .failed(let detail), .rejected(let detail), .notAttempted(let detail): detail
        }
    }
}

/// The `tock-error` of a record in the dead-letter topic (SPEC "Rejected and dead records"), and
/// the `code` of `tock_dead_letters_total`.
public enum DeadLetterCode: String, Sendable, CaseIterable {
    /// Every attempt up to `delivery.maxAttempts` failed with an error a retry could outlive.
    case deliveryFailed = "delivery-failed"
    /// The first attempt was refused for good: no retry.
    case deliveryRejected = "delivery-rejected"
    /// Its topic is reserved (`ReservedTopics`), and it was stored before its request would have
    /// been rejected for that: the rejection's code. Never published.
    case topicNotAllowed = "topic-not-allowed"
}

/// Why a message goes to the dead-letter topic: the code, and the error in a sentence
/// (`tock-error-detail`).
public struct DeadLetter: Sendable, Equatable {
    public var code: DeadLetterCode
    public var detail: String

    public init(code: DeadLetterCode, detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// Decides what becomes of a fired message after a publish attempt: done, tried again after an
/// exponential backoff with full jitter, or dead-lettered, at once when it was rejected and after
/// `maxAttempts` when every attempt failed.
public struct DeliveryPolicy: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Delivered: record the completion.
        case complete
        /// Publish it again at this time.
        case retry(atMillis: Int64)
        /// Try it again at this time, as the same attempt: this one never happened.
        case retryUncounted(atMillis: Int64)
        case deadLetter(DeadLetter)
    }

    public let maxAttempts: Int
    public let backoffInitialMillis: Int64
    public let backoffMaxMillis: Int64

    public init(maxAttempts: Int, backoffInitialMillis: Int64, backoffMaxMillis: Int64) {
        precondition(maxAttempts >= 1 && backoffInitialMillis >= 0 && backoffMaxMillis >= 0)
        self.maxAttempts = maxAttempts
        self.backoffInitialMillis = backoffInitialMillis
        self.backoffMaxMillis = backoffMaxMillis
    }

    public init(_ delivery: TockConfiguration.Delivery) {
        self.init(
            maxAttempts: delivery.maxAttempts, backoffInitialMillis: delivery.backoffInitialMillis,
            backoffMaxMillis: delivery.backoffMaxMillis)
    }

    /// Before attempt number `attempt` is published: nil to publish it, or its dead letter. An
    /// attempt beyond the limit comes from a delivery whose lease ran out mid-flight (its worker
    /// died or stalled), so the previous attempt was the last.
    public func deadLetterBeforePublishing(attempt: Int) -> DeadLetter? {
        guard attempt > maxAttempts else { return nil }
        return DeadLetter(code: .deliveryFailed, detail: "the delivery lease expired on attempt \(attempt - 1) of \(maxAttempts)")
    }

    /// What follows attempt number `attempt` (1 for the first), which ended with `outcome` at
    /// `nowMillis`. `random` draws the jitter.
    public func decide<Random: RandomNumberGenerator>(
        attempt: Int, outcome: DeliveryOutcome, nowMillis: Int64,
        using random: inout Random
    ) -> Action {
        switch outcome {
        case .delivered:
            return .complete
        case .rejected(let detail):
            return .deadLetter(DeadLetter(code: .deliveryRejected, detail: detail))
        case .failed(let detail):
            if attempt >= maxAttempts { return .deadLetter(DeadLetter(code: .deliveryFailed, detail: detail)) }
            return .retry(atMillis: nowMillis + Int64.random(in: 0...backoffCeilingMillis(attempt: attempt), using: &random))
        case .notAttempted:
            return .retryUncounted(atMillis: nowMillis + Int64.random(in: 0...backoffCeilingMillis(attempt: attempt), using: &random))
        }
    }

    /// Full jitter draws the wait after attempt `attempt` uniformly from 0 to this:
    /// min(max, initial · 2^(attempt-1)).
    public func backoffCeilingMillis(attempt: Int) -> Int64 {
        let exponent = Int64(min(max(attempt - 1, 0), 40))
        // Compared before shifting, so a large exponent cannot overflow.
        return backoffInitialMillis > backoffMaxMillis >> exponent ? backoffMaxMillis : min(backoffMaxMillis, backoffInitialMillis << exponent)
    }
}
