import ArgumentParser

/// The options every Tock process takes (SPEC.md, "Processes").
public struct ProcessOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("YAML configuration file.", valueName: "file"))
    public var config: String?

    public init() {}
}

/// Shown in every process's --help: the environment overrides from SPEC.md.
public let environmentHelp = """
    Environment overrides (they beat the file): TOCK_KAFKA_BROKERS (default 127.0.0.1:9092), \
    TOCK_REDIS_URL (default redis://127.0.0.1:6379), TOCK_WORKER_ID (default host name and pid), \
    TOCK_HTTP_PORT (0 = off), TOCK_HTTP_HOST (default 127.0.0.1), and TOCK_<KEY> for every other key of config/tock.yaml \
    (kafka.inputTopics -> TOCK_KAFKA_INPUT_TOPICS).
    """
