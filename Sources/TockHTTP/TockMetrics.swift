import Metrics
import Prometheus

/// The process's metrics: swift-metrics (`Counter`, `Timer`, `Recorder`, …) backed by one
/// Prometheus registry, rendered by `HTTPService` on `/metrics`.
public final class TockMetrics: Sendable {
    /// Histogram buckets in seconds. Tock's latencies (lateness of a fire, store round trips) are
    /// normally a few milliseconds, so the buckets are dense there; 10 s catches the outliers.
    public static let latencyBucketsSeconds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// `latencyBucketsSeconds` as durations, for `Timer`s. Built from whole microseconds because
    /// `Duration.seconds(0.0005)` goes through binary floating point and would render a bucket
    /// bound like `le="0.000500000000000000010"`.
    public static let latencyBuckets: [Duration] = latencyBucketsSeconds.map {
        .microseconds(Int64(($0 * 1_000_000).rounded()))
    }

    public let registry: PrometheusCollectorRegistry

    /// A registry of its own that is not the swift-metrics backend; for code that makes Prometheus
    /// metrics directly. Processes use `bootstrap()`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    // A static `let` is initialised exactly once, thread-safely, which is what makes `bootstrap()`
    // idempotent: MetricsSystem.bootstrap traps when called a second time in a process.
    private static let shared: TockMetrics = {
        let metrics = TockMetrics()
        MetricsSystem.bootstrap(metrics.makeFactory())
        return metrics
    }()

    /// Makes this registry the swift-metrics backend of the process, on the first call; later
    /// calls return the same instance. Traps if something else bootstrapped `MetricsSystem` before.
    public static func bootstrap() -> TockMetrics {
        shared
    }

    /// A swift-metrics factory writing into this registry, with Tock's histogram buckets
    /// (the library's defaults start at 5 ms and 5 units, too coarse for Tock).
    public func makeFactory() -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        factory.defaultValueHistogramBuckets = Self.latencyBucketsSeconds
        return factory
    }

    /// The Prometheus text exposition format (version 0.0.4) of every registered metric, each
    /// with its `# HELP` (`MetricHelp`).
    public func render() -> String {
        MetricHelp.annotate(registry.emitToString())
    }
}
