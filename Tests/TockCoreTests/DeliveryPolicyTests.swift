import Testing
import TockCore

@Suite struct DeliveryPolicyTests {
    let policy = DeliveryPolicy(maxAttempts: 10, backoffInitialMillis: 1_000, backoffMaxMillis: 600_000)

    /// What `policy` (the suite's by default) decides after `attempt` ended with `outcome`, drawing
    /// its jitter from a generator seeded with 1.
    func decide(attempt: Int, _ outcome: DeliveryOutcome, nowMillis: Int64 = 5_000, by policy: DeliveryPolicy? = nil) -> DeliveryPolicy.Action {
        var random = SplitMix64(seed: 1)
        return (policy ?? self.policy).decide(attempt: attempt, outcome: outcome, nowMillis: nowMillis, using: &random)
    }

    /// Expects `decide` to dead-letter `outcome` of `attempt` as `code`, with the outcome's own detail.
    func expectDeadLettered(
        attempt: Int, _ outcome: DeliveryOutcome, as code: DeadLetterCode, nowMillis: Int64 = 5_000, by policy: DeliveryPolicy? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            decide(attempt: attempt, outcome, nowMillis: nowMillis, by: policy) == .deadLetter(DeadLetter(code: code, detail: outcome.detail ?? "")),
            sourceLocation: sourceLocation)
    }

    @Test func aDeliveredAttemptCompletes() {
        var random = SplitMix64(seed: 1)
        for attempt in [1, 5, 10] {
            #expect(policy.decide(attempt: attempt, outcome: .delivered, nowMillis: 5_000, using: &random) == .complete)
        }
    }

    @Test func aRejectedRecordIsDeadLetteredOnItsFirstAttemptWithItsError() {
        expectDeadLettered(attempt: 1, .rejected(detail: "MSG_SIZE_TOO_LARGE (10)"), as: .deliveryRejected)
        #expect(DeadLetterCode.deliveryRejected.rawValue == "delivery-rejected")
    }

    @Test func aRejectionOnALaterAttemptIsDeadLetteredAtOnceToo() {
        expectDeadLettered(attempt: 4, .rejected(detail: "TOPIC_AUTHORIZATION_FAILED (29)"), as: .deliveryRejected)
    }

    @Test func aTransientFailureIsRetriedWithinTheFullJitterCeiling() {
        var random = SplitMix64(seed: 42)
        for attempt in 1..<10 {
            let ceiling = min(600_000, Int64(1_000) << Int64(attempt - 1))
            #expect(policy.backoffCeilingMillis(attempt: attempt) == ceiling)
            for _ in 0..<200 {
                guard
                    case .retry(let at) = policy.decide(
                        attempt: attempt, outcome: .failed(detail: "_MSG_TIMED_OUT"), nowMillis: 5_000, using: &random)
                else {
                    Issue.record("attempt \(attempt) of 10 was not retried")
                    return
                }
                #expect((5_000...5_000 + ceiling).contains(at), "attempt \(attempt): retry at \(at)")
            }
        }
    }

    @Test func theJitterSpreadsRetriesOverTheWholeRange() {
        var random = SplitMix64(seed: 7)
        let waits = (0..<1_000).compactMap { _ -> Int64? in
            guard case .retry(let at) = policy.decide(attempt: 3, outcome: .failed(detail: "x"), nowMillis: 0, using: &random) else { return nil }
            return at
        }
        #expect(waits.count == 1_000)
        #expect(waits.min()! < 400)
        #expect(waits.max()! > 3_600)
    }

    @Test func theCeilingStopsAtTheMaximumWithoutOverflowing() {
        #expect(policy.backoffCeilingMillis(attempt: 10) == 512_000)
        #expect(policy.backoffCeilingMillis(attempt: 11) == 600_000)
        #expect(policy.backoffCeilingMillis(attempt: 1_000) == 600_000)
        let huge = DeliveryPolicy(maxAttempts: 1_000, backoffInitialMillis: Int64.max / 4, backoffMaxMillis: Int64.max / 2)
        #expect(huge.backoffCeilingMillis(attempt: 64) == Int64.max / 2)
    }

    @Test func aTransientFailureOnTheLastAttemptIsDeadLetteredAsFailed() {
        expectDeadLettered(attempt: 10, .failed(detail: "_MSG_TIMED_OUT (-192)"), as: .deliveryFailed)
        #expect(DeadLetterCode.deliveryFailed.rawValue == "delivery-failed")
    }

    @Test func withOneAttemptAnyFailureIsFinal() {
        let once = DeliveryPolicy(maxAttempts: 1, backoffInitialMillis: 1_000, backoffMaxMillis: 1_000)
        expectDeadLettered(attempt: 1, .failed(detail: "x"), as: .deliveryFailed, nowMillis: 0, by: once)
    }

    @Test func anAttemptBeyondTheLimitIsDeadLetteredBeforePublishing() {
        #expect(policy.deadLetterBeforePublishing(attempt: 1) == nil)
        #expect(policy.deadLetterBeforePublishing(attempt: 10) == nil)
        let letter = policy.deadLetterBeforePublishing(attempt: 11)
        #expect(letter == DeadLetter(code: .deliveryFailed, detail: "the delivery lease expired on attempt 10 of 10"))
    }

    @Test func aMessageForAReservedTopicIsDeadLetteredWithItsRejectionCode() {
        #expect(DeadLetterCode.topicNotAllowed.rawValue == RejectionCode.topicNotAllowed.rawValue)
    }

    @Test func theConfigurationSetsThePolicy() {
        var configuration = TockConfiguration()
        configuration.delivery.maxAttempts = 3
        configuration.delivery.backoffInitialMillis = 100
        configuration.delivery.backoffMaxMillis = 300
        #expect(DeliveryPolicy(configuration.delivery) == DeliveryPolicy(maxAttempts: 3, backoffInitialMillis: 100, backoffMaxMillis: 300))
    }
}
