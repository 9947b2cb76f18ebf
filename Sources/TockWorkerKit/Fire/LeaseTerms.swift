import TockCore

/// The arithmetic of delivery-lock leases, all from `delivery.leaseTimeout`. A lock outlives the
/// lease only while its worker renews it; the worker counts on less than the lease (the other
/// workers' clocks may run ahead), and a record may wait in the producer only while the lease the
/// lock surely has left covers that wait (docs/never-twice.md).
public struct LeaseTerms: Sendable, Equatable {
    public let leaseMillis: Int64

    public init(_ delivery: TockConfiguration.Delivery) { leaseMillis = delivery.leaseTimeoutMillis }

    /// How long after sending a `begin` or a renewal this worker counts on the lease: the lease
    /// less a margin for the clocks of the workers that may reap it.
    public var knownLeaseMillis: Int64 { leaseMillis - max(250, leaseMillis / 6) }

    public var renewIntervalMillis: Int64 { max(100, leaseMillis / 3) }

    /// The producer's `message.timeout.ms`: within the lease a renewed lock always has left (the
    /// known lease less a renewal interval), less room for the renewal's round trip.
    public var producerTimeoutMillis: Int64 { max(500, knownLeaseMillis - renewIntervalMillis - 300) }

    /// A gap in the process's run longer than this is a stall: its locks may have run out meanwhile.
    public var stallThresholdMillis: Int64 { max(500, leaseMillis / 3) }

    /// How long this process's own expired locks are spared by its claims: they are most likely
    /// deliveries whose renewal an overloaded Redis delayed.
    public var ownGraceMillis: Int64 { 2 * leaseMillis }

    /// How long past its latest publish time a delivery not yet handed to the producer is held.
    public var unsentGraceMillis: Int64 { leaseMillis }

    /// How long past its latest publish time a delivery handed to the producer may wait for its
    /// outcome to be recorded (`OutcomeRecorder` gives up after about 30 s) before it is given up.
    public var sentGraceMillis: Int64 { leaseMillis + Self.recordingGraceMillis }

    static let recordingGraceMillis: Int64 = 60_000

    var knownLease: Duration { .milliseconds(knownLeaseMillis) }
    var producerTimeout: Duration { .milliseconds(producerTimeoutMillis) }
}
