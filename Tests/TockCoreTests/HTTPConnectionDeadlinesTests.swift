import Testing

@testable import TockCore

@Suite("HTTP connection deadlines")
struct HTTPConnectionDeadlinesTests {
    /// `deadlines` (by default with a 100 ms request and 1 s idle limit) after `events`, each at its
    /// time; what each event returned is not checked.
    static func replayed(
        _ events: [(HTTPConnectionDeadlines.Event, Int64)],
        on deadlines: HTTPConnectionDeadlines = HTTPConnectionDeadlines(requestMillis: 100, idleMillis: 1_000)
    ) -> HTTPConnectionDeadlines {
        var deadlines = deadlines
        for (event, millis) in events { _ = deadlines.on(event, nowMillis: millis) }
        return deadlines
    }

    @Test("a new connection has 10 s for its first request, however it trickles in")
    func firstRequest() {
        var deadlines = HTTPConnectionDeadlines()
        #expect(deadlines.on(.opened, nowMillis: 1_000) == .closeAt(11_000))
        #expect(deadlines.on(.requestStarted, nowMillis: 4_000) == .keep)
        #expect(deadlines.on(.requestStarted, nowMillis: 5_000) == .keep)
        #expect(!deadlines.isIdle)
        #expect(deadlines.on(.requestReceived, nowMillis: 9_000) == .noDeadline)
    }

    @Test("between requests a kept-alive connection may idle 60 s; the next request has 10 s from its first byte")
    func keepAlive() {
        var deadlines = Self.replayed([(.opened, 0), (.requestStarted, 10)], on: HTTPConnectionDeadlines())
        #expect(deadlines.on(.requestReceived, nowMillis: 20) == .noDeadline)
        #expect(deadlines.on(.responseQueued, nowMillis: 500) == .closeAt(10_500))
        #expect(deadlines.on(.responseSent, nowMillis: 510) == .closeAt(60_510))
        #expect(deadlines.isIdle)
        #expect(deadlines.on(.requestStarted, nowMillis: 30_000) == .closeAt(40_000))
        #expect(!deadlines.isIdle)
    }

    @Test("a request pipelined behind one being answered gets its 10 s once that response is sent")
    func pipelined() {
        var deadlines = Self.replayed([(.opened, 0), (.requestStarted, 0), (.requestReceived, 1)])
        #expect(deadlines.on(.requestStarted, nowMillis: 2) == .keep)
        #expect(deadlines.isAnswering)
        #expect(deadlines.on(.responseQueued, nowMillis: 50) == .closeAt(150))
        #expect(deadlines.on(.responseSent, nowMillis: 60) == .closeAt(160))
        #expect(deadlines.on(.requestReceived, nowMillis: 70) == .noDeadline)
        #expect(deadlines.on(.responseQueued, nowMillis: 80) == .closeAt(180))
        #expect(deadlines.on(.responseSent, nowMillis: 90) == .closeAt(1_090))
        #expect(deadlines.isIdle && !deadlines.isAnswering)
    }

    @Test("two requests received before either response: no deadline until both are sent")
    func twoInFlight() {
        var deadlines = Self.replayed([(.opened, 0), (.requestReceived, 1), (.requestStarted, 1)])
        #expect(deadlines.on(.requestReceived, nowMillis: 2) == .noDeadline)
        _ = deadlines.on(.responseQueued, nowMillis: 3)
        #expect(deadlines.on(.responseSent, nowMillis: 4) == .noDeadline)
        #expect(deadlines.isAnswering)
        _ = deadlines.on(.responseQueued, nowMillis: 5)
        #expect(deadlines.on(.responseSent, nowMillis: 6) == .closeAt(1_006))
    }
}
