import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TockCore
import TockStore

/// SPEC guarantee 5 for one process: measures its clock against the cluster's reference (Redis
/// `TIME`, `samplesPerCheck` round trips, the shortest kept) at start and every
/// `clock.checkInterval`, runs `clock` on the result (`ClockGuard` decides), and says how it
/// stands: the log, `tock_clock_offset_seconds`, `status` for `/readyz` and the heartbeat.
/// `onCheck` hears the status after every check (a worker records it for its heartbeat, and stops
/// or resumes firing when it changes).
public final class ClockService: Service, Sendable {
    public static let samplesPerCheck = 5

    public let clock: ReferenceClock
    let store: ScheduleStore
    let interval: Duration
    let logger: Logger
    let onCheck: @Sendable (ClockStatus) async -> Void
    private let decision: Mutex<ClockGuard>
    let offsetGauge = Gauge(label: "tock_clock_offset_seconds")
    let roundTripGauge = Gauge(label: "tock_clock_round_trip_seconds")
    let unfitGauge = Gauge(label: "tock_clock_unfit")

    public init(
        store: ScheduleStore, configuration: TockConfiguration.Clock, clock: ReferenceClock = ReferenceClock(), logger: Logger,
        onCheck: @escaping @Sendable (ClockStatus) async -> Void = { _ in }
    ) {
        self.store = store
        self.clock = clock
        self.interval = .milliseconds(configuration.checkIntervalMillis)
        self.logger = logger
        self.onCheck = onCheck
        decision = Mutex(ClockGuard(configuration))
        unfitGauge.record(1)
    }

    public var status: ClockStatus { decision.withLock { $0.status } }

    /// A `/readyz` reason while the clock stops a worker from firing.
    public var notReadyReasons: [String] {
        let status = status
        return status.canFire ? [] : [status.detail]
    }

    /// A `/readyz` note while the process runs corrected (ready, but it should be known).
    public var readinessNotes: [String] {
        let status = status
        return status.state == .corrected ? [status.detail] : []
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await checkOnce()
        }
    }

    /// Measures once, and acts on the outcome.
    public func checkOnce() async {
        var samples: [ClockSample] = []
        var failure: String?
        for _ in 0..<Self.samplesPerCheck {
            do { samples.append(try await store.cluster.sampleReferenceClock()) } catch {
                failure = "\(error)"
                break
            }
        }
        let estimate = ClockOffset.estimate(samples)
        let now = MonotonicClock.nowMicros() / 1_000
        let actions = decision.withLock { $0.measured(estimate, failure: failure, nowMillis: now) }
        let status = status
        if let offset = status.offsetMillis { offsetGauge.record(offset / 1_000) }
        if let roundTrip = status.roundTripMillis { roundTripGauge.record(roundTrip / 1_000) }
        unfitGauge.record(status.canFire ? 0 : 1)
        for action in actions {
            switch action {
            case .rebase(let base, let moved):
                clock.rebase(base)
                if abs(moved) > decision.withLock({ $0.maxSkewMillis }) * 1_000 {
                    logger.warning(
                        "clock: the reference clock (Redis TIME) moved against this host's since the last check (a failover to a server with another clock, or a clock stepped); following it",
                        metadata: ["movedMillis": "\(moved / 1_000)"])
                }
            case .changed(let status):
                log(status)
            }
        }
        await onCheck(status)
    }

    private func log(_ status: ClockStatus) {
        switch status.state {
        case .ok: logger.info("\(status.detail)")
        case .corrected: logger.warning("\(status.detail)")
        case .held, .unmeasured: logger.error("\(status.detail)")
        }
    }
}
