/// `output.rateLimits` (SPEC "Rate limits"): topic globs → records per second. Each limited topic
/// is limited on its own, across all workers; a topic matching several globs takes the lowest rate.
public struct RateLimits: Sendable, Equatable {
    public struct Limit: Sendable, Equatable {
        /// The glob as configured: the label of the limit's metrics (never the raw topic).
        public var glob: String
        public var perSecond: Int
    }

    /// The highest rate a topic may be limited to: the slot arithmetic of `rate.lua` stays exact
    /// below it.
    public static let maximumPerSecond = 50_000

    public let limits: [Limit]
    private let globs: [TopicGlob]

    public init(_ limits: [Limit]) {
        self.limits = limits.sorted { $0.glob < $1.glob }
        globs = self.limits.map { TopicGlob($0.glob) }
    }

    public init(_ map: [String: Int]) {
        self.init(map.map { Limit(glob: $0.key, perSecond: $0.value) })
    }

    public var isEmpty: Bool { limits.isEmpty }

    /// The limit a topic is under, or nil when it is unlimited.
    public func limit(for topic: String) -> Limit? {
        var found: Limit?
        for (limit, glob) in zip(limits, globs) where glob.matches(topic) {
            if found == nil || limit.perSecond < found!.perSecond { found = limit }
        }
        return found
    }

    public static func == (lhs: RateLimits, rhs: RateLimits) -> Bool { lhs.limits == rhs.limits }
}
