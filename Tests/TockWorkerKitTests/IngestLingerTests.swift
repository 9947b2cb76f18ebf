import Testing
import TockCore

@testable import TockWorkerKit

@Suite("Ingest linger: which requests end the consumer's wait")
struct IngestLingerTests {
    let linger = IngestLinger(lingerMillis: 100, lockAheadMillis: 250)
    let now: Int64 = 1_000_000

    func message(dueIn millis: Int64) -> ScheduledMessage {
        ScheduledMessage(id: "a", idWasGiven: true, dueMillis: now + millis, topic: "out", key: nil, value: nil, headers: [])
    }

    @Test("a schedule or reschedule due within the linger plus the lock lead ends it; a later one does not")
    func dueSoon() {
        #expect(linger.endsWait(.success(.schedule(message(dueIn: 350))), nowMillis: now))
        #expect(linger.endsWait(.success(.reschedule(message(dueIn: -5))), nowMillis: now))
        #expect(!linger.endsWait(.success(.schedule(message(dueIn: 351))), nowMillis: now))
        #expect(!linger.endsWait(.success(.reschedule(message(dueIn: 60_000))), nowMillis: now))
    }

    @Test("every cancel ends it: its message may be about to be locked")
    func cancels() {
        #expect(linger.endsWait(.success(.cancel(id: "a")), nowMillis: now))
    }

    @Test("a rejected request does not")
    func rejected() {
        #expect(!linger.endsWait(.failure(RequestRejection(code: .missingTopic, detail: "no tock-topic")), nowMillis: now))
    }
}
