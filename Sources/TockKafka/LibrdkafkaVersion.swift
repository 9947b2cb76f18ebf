import CRdKafka

/// The librdkafka this process actually runs against, which need not be the one whose headers it
/// was compiled with: Debian ships 2.0.2 headers, while the runtime comes from `scripts/setup`.
public enum LibrdkafkaVersion {
    public static let minimum = (major: 2, minor: 2, patch: 0)

    /// The version loaded at run time (`rd_kafka_version()`, `rd_kafka_version_str()`).
    public static var runtime: (major: Int, minor: Int, patch: Int, string: String) {
        let hex = Int(rd_kafka_version())
        return ((hex >> 24) & 0xFF, (hex >> 16) & 0xFF, (hex >> 8) & 0xFF, String(cString: rd_kafka_version_str()))
    }

    public static var isSupported: Bool {
        let version = runtime
        return (version.major, version.minor, version.patch) >= minimum
    }

    /// An explanation and a fix when the runtime librdkafka is too old, else nil.
    public static func runtimeProblem() -> String? {
        if isSupported { return nil }
        let version = runtime
        return """
            librdkafka \(version.string) is loaded, but Tock needs librdkafka >= \
            \(minimum.major).\(minimum.minor).\(minimum.patch). Versions before 2.2.0 mis-skip tagged \
            protocol fields, so the ApiVersion handshake with the broker fails with "Read underflow" \
            and no request ever succeeds. Fix: run scripts/setup, which links librdkafka 2.16 from the \
            confluent-kafka wheel into .tools/lib, and put that folder on LD_LIBRARY_PATH \
            (export LD_LIBRARY_PATH=<repo>/.tools/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}).
            """
    }

    /// Throws a non-retriable `KafkaError` carrying `runtimeProblem()` when the runtime is too old.
    /// Executables call this first and exit with status 2 on failure.
    public static func checkRuntime() throws {
        if let problem = runtimeProblem() {
            throw KafkaError(code: .unsupportedFeature, message: problem, isRetriable: false)
        }
    }
}
