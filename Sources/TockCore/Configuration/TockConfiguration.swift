/// Everything a Tock process can be configured with. Defaults match `config/tock.yaml` and
/// SPEC.md; `init(reading:)` takes them from a `ConfigurationReader` (YAML text, then the
/// `TOCK_*` environment overrides). Reading the file and the process environment is TockRuntime's
/// (`TockConfiguration.load`).
public struct TockConfiguration: Sendable, Equatable {
    public struct Kafka: Sendable, Equatable {
        public var brokers = "127.0.0.1:9092"
        public var inputTopics = ["tock.requests"]
        public var rejectedTopic = "tock.rejected"
        public var deadTopic = "tock.dead"
        public var groupId = "tock-workers"
        public var sessionTimeoutMillis: Int64 = 10_000
        public var assignmentStrategy = "cooperative-sticky"
        public var producerLingerMillis: Int64 = 5
        /// How long the request consumer waits, after a batch's first request, for more: Redis's
        /// cost per request falls with the batch. A request due sooner than this plus
        /// `delivery.lockAhead`, and any cancel, ends the wait.
        public var consumerLingerMillis: Int64 = 100
        /// How often the worker commits the offsets of stored requests. A crash re-reads at most
        /// this much; the watermarks make the re-read a no-op.
        public var commitIntervalMillis: Int64 = 200
        /// Output producers, each with its own broker connection and the partitions `p` with
        /// `p % outputProducers == index` (see `KafkaProducerPool`).
        public var outputProducers = 1
        /// Whether workers create missing input, rejected and dead-letter topics at start.
        public var createTopics = true
        /// Partitions of topics Tock creates.
        public var topicPartitions = 24
        /// Replication factor of topics Tock creates (-1: the broker's default).
        public var topicReplicationFactor = 1
        /// Extra librdkafka properties for every client, e.g. `security.protocol`.
        public var properties: [String: String] = [:]
        /// Extra librdkafka properties for the output producer only (they win over `properties`).
        public var producerProperties: [String: String] = [:]
        /// Extra librdkafka properties for the request consumer only (they win over `properties`).
        public var consumerProperties: [String: String] = [:]
    }

    public struct Redis: Sendable, Equatable {
        public var url = "redis://127.0.0.1:6379"
        public var connectTimeoutMillis: Int64 = 2_000
        public var commandTimeoutMillis: Int64 = 5_000
    }

    public struct Store: Sendable, Equatable {
        public var shards = 16
        public var keyPrefix = "tock"
        /// Replicas that must confirm a write (Redis `WAIT`) before Tock treats it as durable:
        /// before committing a request's offset and before recording a delivery.
        public var replicaAcks = 0
        /// How long such a write waits for them before it counts as failed (and is retried).
        public var replicaAckTimeoutMillis: Int64 = 1_000
        /// A message due further ahead than this when accepted is cold: its record is kept in
        /// Kafka (SPEC "Tiered storage"). 0: none is.
        public var hotHorizonMillis: Int64 = 3_600_000
        /// The cold topics are "<prefix>.days" and "<prefix>.hours".
        public var coldTopicPrefix = "tock.cold"
        /// The width of a slot of each cold ring (docs/tiered-storage.md); tests shrink them.
        public var coldHourSlotMillis: Int64 = 3_600_000
        public var coldDaySlotMillis: Int64 = 86_400_000
        /// Cold messages each worker moves into the hot store per second, at most.
        public var coldMoveRate = 20_000
    }

    public struct Wheel: Sendable, Equatable {
        public var lookaheadMillis: Int64 = 30_000
        public var claimIntervalMillis: Int64 = 1_000
        public var claimBatchSize = 1_000
    }

    public struct Limits: Sendable, Equatable {
        public var maxPayloadBytes = 1_048_576
        public var maxHorizonMillis: Int64 = 730 * 86_400_000
    }

    public struct Output: Sendable, Equatable {
        public var allowedTopics = ["*"]
        /// Topic globs → records per second, across all workers (SPEC "Rate limits").
        public var rateLimits = RateLimits([String: Int]())
    }

    public struct Dedup: Sendable, Equatable {
        public var retentionMillis: Int64 = 3_600_000
    }

    public struct Delivery: Sendable, Equatable {
        public var backoffInitialMillis: Int64 = 1_000
        public var backoffMaxMillis: Int64 = 600_000
        public var maxAttempts = 10
        public var leaseTimeoutMillis: Int64 = 3_000
        /// How long before its due time a delivery is locked in Redis, so that the lock's round
        /// trip is off the path that decides lateness. A cancel or reschedule that arrives later
        /// than this before the due time finds the message already delivering, and is lost.
        public var lockAheadMillis: Int64 = 250
        /// Adds `tock-published-us` to each output record: epoch microseconds at which it was
        /// handed to the producer, for measuring fire lateness below CreateTime's millisecond.
        public var publishedHeader = false
    }

    public struct Series: Sendable, Equatable {
        /// A series occurrence a worker gets to this late counts as missed, for `tock-catchup:
        /// none` (SPEC: missed while no worker could fire it); a smaller lateness is ordinary.
        public var missedAfterMillis: Int64 = 1_000
    }

    public enum ClusterMode: String, Sendable, Equatable, CaseIterable {
        case standalone
        case monitored
    }

    public struct Cluster: Sendable, Equatable {
        public var mode: ClusterMode = .monitored
        public var heartbeatIntervalMillis: Int64 = 500
        public var heartbeatTimeoutMillis: Int64 = 3_000
    }

    /// SPEC guarantee 5: every process measures its clock against Redis `TIME` and runs on it.
    public struct Clock: Sendable, Equatable {
        public enum OnSkew: String, Sendable, Equatable, CaseIterable {
            /// Run on the reference clock and go on firing.
            case correct
            /// Fire nothing, and hand the shards to workers that can, until the offset is back within `maxSkew`.
            case hold
        }

        /// An offset from the reference beyond this is reported (and, with `hold`, stops firing).
        public var maxSkewMillis: Int64 = 100
        /// How often the offset is measured again (clocks drift, and get stepped).
        public var checkIntervalMillis: Int64 = 2_000
        public var onSkew: OnSkew = .correct
    }

    public struct Worker: Sendable, Equatable {
        /// Empty means "host name and pid", resolved at start.
        public var id = ""
    }

    public struct HTTP: Sendable, Equatable {
        /// SPEC v3: loopback unless configured; the compose stack sets 0.0.0.0.
        public var host = "127.0.0.1"
        /// 0 turns the HTTP server off.
        public var port = 9464
    }

    public struct Monitor: Sendable, Equatable {
        /// Where `tock stats` finds a tock-monitor's HTTP server; empty means this host's `http.port`.
        public var url = ""
    }

    /// The operators' API on tock-monitor (SPEC "The operators' API").
    public struct API: Sendable, Equatable {
        /// `name:role:sha256hex` each; none means reads are open and writes refused.
        public var tokens: [APIToken] = []
        /// Requests per second one token (or, without one, one remote address) may make; twice
        /// as many may come at once.
        public var rateLimit = 20
        /// Where every write, allowed or refused, is recorded before it is answered.
        public var auditTopic = "tock.audit"
        /// Cancel requests a second that a cancel by tag writes, at most: a big tag must not crowd
        /// the input topic's other requests out.
        public var tagCancelRate = 2_000
    }

    public struct Shutdown: Sendable, Equatable {
        public var timeoutMillis: Int64 = 30_000
    }

    public struct Log: Sendable, Equatable {
        public var level = "info"
    }

    public var kafka = Kafka()
    public var redis = Redis()
    public var store = Store()
    public var wheel = Wheel()
    public var limits = Limits()
    public var output = Output()
    public var dedup = Dedup()
    public var delivery = Delivery()
    public var series = Series()
    public var cluster = Cluster()
    public var clock = Clock()
    public var worker = Worker()
    public var http = HTTP()
    public var monitor = Monitor()
    public var api = API()
    public var shutdown = Shutdown()
    public var log = Log()

    public init() {}

    public static let defaultPath = "config/tock.yaml"
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads every key. The order here is the order of `config/tock.yaml` and the README table.
    public init(reading reader: inout ConfigurationReader) throws {
        let d = TockConfiguration()
        kafka.brokers = try reader.string("kafka.brokers", default: d.kafka.brokers)
        kafka.inputTopics = try reader.stringList("kafka.inputTopics", default: d.kafka.inputTopics)
        if kafka.inputTopics.isEmpty {
            throw ConfigurationError(key: "kafka.inputTopics", source: "configuration", message: "needs at least one topic")
        }
        kafka.rejectedTopic = try reader.string("kafka.rejectedTopic", default: d.kafka.rejectedTopic)
        kafka.deadTopic = try reader.string("kafka.deadTopic", default: d.kafka.deadTopic)
        kafka.groupId = try reader.string("kafka.groupId", default: d.kafka.groupId)
        kafka.sessionTimeoutMillis = try reader.durationMillis("kafka.sessionTimeout", default: d.kafka.sessionTimeoutMillis, minimum: 1)
        kafka.assignmentStrategy = try reader.string("kafka.assignmentStrategy", default: d.kafka.assignmentStrategy)
        kafka.producerLingerMillis = try reader.durationMillis("kafka.producerLinger", default: d.kafka.producerLingerMillis)
        kafka.consumerLingerMillis = try reader.durationMillis("kafka.consumerLinger", default: d.kafka.consumerLingerMillis)
        kafka.commitIntervalMillis = try reader.durationMillis("kafka.commitInterval", default: d.kafka.commitIntervalMillis)
        kafka.outputProducers = try reader.int("kafka.outputProducers", default: d.kafka.outputProducers, range: 1...64)
        kafka.createTopics = try reader.bool("kafka.createTopics", default: d.kafka.createTopics)
        kafka.topicPartitions = try reader.int("kafka.topicPartitions", default: d.kafka.topicPartitions, range: 1...10_000)
        kafka.topicReplicationFactor = try reader.int("kafka.topicReplicationFactor", default: d.kafka.topicReplicationFactor, range: -1...100)
        kafka.properties = try reader.stringMap("kafka.properties")
        kafka.producerProperties = try reader.stringMap("kafka.producerProperties")
        kafka.consumerProperties = try reader.stringMap("kafka.consumerProperties")

        redis.url = try reader.string("redis.url", default: d.redis.url)
        redis.connectTimeoutMillis = try reader.durationMillis("redis.connectTimeout", default: d.redis.connectTimeoutMillis, minimum: 1)
        redis.commandTimeoutMillis = try reader.durationMillis("redis.commandTimeout", default: d.redis.commandTimeoutMillis, minimum: 1)

        store.shards = try reader.int("store.shards", default: d.store.shards, range: 1...16_384)
        store.keyPrefix = try reader.string("store.keyPrefix", default: d.store.keyPrefix)
        store.replicaAcks = try reader.int("store.replicaAcks", default: d.store.replicaAcks, range: 0...100)
        store.replicaAckTimeoutMillis = try reader.durationMillis("store.replicaAckTimeout", default: d.store.replicaAckTimeoutMillis, minimum: 1)
        store.hotHorizonMillis = try reader.durationMillis("store.hotHorizon", default: d.store.hotHorizonMillis)
        store.coldTopicPrefix = try reader.string("store.coldTopicPrefix", default: d.store.coldTopicPrefix)
        store.coldHourSlotMillis = try reader.durationMillis("store.coldHourSlot", default: d.store.coldHourSlotMillis, minimum: 1_000)
        store.coldDaySlotMillis = try reader.durationMillis("store.coldDaySlot", default: d.store.coldDaySlotMillis, minimum: 1_000)
        store.coldMoveRate = try reader.int("store.coldMoveRate", default: d.store.coldMoveRate, range: 1...10_000_000)

        wheel.lookaheadMillis = try reader.durationMillis("wheel.lookahead", default: d.wheel.lookaheadMillis, minimum: 1)
        wheel.claimIntervalMillis = try reader.durationMillis("wheel.claimInterval", default: d.wheel.claimIntervalMillis, minimum: 1)
        wheel.claimBatchSize = try reader.int("wheel.claimBatchSize", default: d.wheel.claimBatchSize, range: 1...1_000_000)

        limits.maxPayloadBytes = try reader.int("limits.maxPayloadBytes", default: d.limits.maxPayloadBytes, range: 0...(512 * 1_048_576))
        limits.maxHorizonMillis = try reader.durationMillis("limits.maxHorizon", default: d.limits.maxHorizonMillis, minimum: 1)

        output.allowedTopics = try reader.stringList("output.allowedTopics", default: d.output.allowedTopics)
        let rateLimits = try reader.positiveIntMap("output.rateLimits", checkName: TopicGlob.problem(ofGlob:))
        if let (glob, rate) = rateLimits.first(where: { $0.value > RateLimits.maximumPerSecond }) {
            throw ConfigurationError(
                key: "output.rateLimits.\(glob)", source: "configuration",
                message: "\(rate) is above the highest rate limit, \(RateLimits.maximumPerSecond) records per second")
        }
        output.rateLimits = RateLimits(rateLimits)

        dedup.retentionMillis = try reader.durationMillis("dedup.retention", default: d.dedup.retentionMillis)

        delivery.backoffInitialMillis = try reader.durationMillis("delivery.backoff.initial", default: d.delivery.backoffInitialMillis, minimum: 1)
        delivery.backoffMaxMillis = try reader.durationMillis("delivery.backoff.max", default: d.delivery.backoffMaxMillis, minimum: 1)
        delivery.maxAttempts = try reader.int("delivery.maxAttempts", default: d.delivery.maxAttempts, range: 1...1_000)
        delivery.leaseTimeoutMillis = try reader.durationMillis("delivery.leaseTimeout", default: d.delivery.leaseTimeoutMillis, minimum: 1)
        delivery.lockAheadMillis = try reader.durationMillis("delivery.lockAhead", default: d.delivery.lockAheadMillis)
        delivery.publishedHeader = try reader.bool("delivery.publishedHeader", default: d.delivery.publishedHeader)

        series.missedAfterMillis = try reader.durationMillis("series.missedAfter", default: d.series.missedAfterMillis)

        let mode = try reader.string("cluster.mode", default: d.cluster.mode.rawValue)
        guard let clusterMode = ClusterMode(rawValue: mode) else {
            throw ConfigurationError(
                key: "cluster.mode", source: "configuration",
                message: "expected one of \(ClusterMode.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(mode)\"")
        }
        cluster.mode = clusterMode
        cluster.heartbeatIntervalMillis = try reader.durationMillis(
            "cluster.heartbeatInterval", default: d.cluster.heartbeatIntervalMillis, minimum: 1)
        cluster.heartbeatTimeoutMillis = try reader.durationMillis("cluster.heartbeatTimeout", default: d.cluster.heartbeatTimeoutMillis, minimum: 1)

        clock.maxSkewMillis = try reader.durationMillis("clock.maxSkew", default: d.clock.maxSkewMillis, minimum: 1)
        clock.checkIntervalMillis = try reader.durationMillis("clock.checkInterval", default: d.clock.checkIntervalMillis, minimum: 100)
        let onSkew = try reader.string("clock.onSkew", default: d.clock.onSkew.rawValue)
        guard let clockOnSkew = Clock.OnSkew(rawValue: onSkew) else {
            throw ConfigurationError(
                key: "clock.onSkew", source: "configuration",
                message: "expected one of \(Clock.OnSkew.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(onSkew)\"")
        }
        clock.onSkew = clockOnSkew

        worker.id = try reader.string("worker.id", default: d.worker.id)

        http.host = try reader.string("http.host", default: d.http.host)
        http.port = try reader.int("http.port", default: d.http.port, range: 0...65_535)

        monitor.url = try reader.string("monitor.url", default: d.monitor.url)

        api.tokens = try reader.stringList("api.tokens", default: []).map { entry throws(ConfigurationError) in
            do throws(APIToken.ParseError) {
                return try APIToken(parsing: entry)
            } catch {
                throw ConfigurationError(key: "api.tokens", source: "configuration", message: error.message)
            }
        }
        if let name = Dictionary(grouping: api.tokens, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw ConfigurationError(key: "api.tokens", source: "configuration", message: "the token name \"\(name)\" is given twice")
        }
        api.rateLimit = try reader.int("api.rateLimit", default: d.api.rateLimit, range: 1...100_000)
        api.auditTopic = try reader.string("api.auditTopic", default: d.api.auditTopic)
        api.tagCancelRate = try reader.int("api.tagCancelRate", default: d.api.tagCancelRate, range: 1...10_000_000)

        shutdown.timeoutMillis = try reader.durationMillis("shutdown.timeout", default: d.shutdown.timeoutMillis, minimum: 1)

        log.level = try reader.string("log.level", default: d.log.level)
        guard Self.logLevels.contains(log.level) else {
            throw ConfigurationError(
                key: "log.level", source: "configuration", message: "expected one of \(Self.logLevels.joined(separator: ", ")), got \"\(log.level)\"")
        }
        if delivery.backoffMaxMillis < delivery.backoffInitialMillis {
            throw ConfigurationError(key: "delivery.backoff.max", source: "configuration", message: "must not be below delivery.backoff.initial")
        }
        if cluster.heartbeatTimeoutMillis <= cluster.heartbeatIntervalMillis {
            throw ConfigurationError(
                key: "cluster.heartbeatTimeout", source: "configuration", message: "must be longer than cluster.heartbeatInterval")
        }
        if let problem = ColdLayout.problem(of: self) {
            throw ConfigurationError(key: problem.key, source: "configuration", message: problem.message)
        }
    }
}
