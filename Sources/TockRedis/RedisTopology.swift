/// What `redis.url` names: one server, a Redis Cluster given by some of its nodes, or the
/// primary that a set of Sentinels name.
///
/// - `redis://[user:password@]host:port[/db]`
/// - `redis+cluster://[user:password@]host:port[,host:port…]` (a cluster has only database 0)
/// - `redis+sentinel://[user:password@]host:port[,host:port…]/<master-name>`
///
/// The credentials are those of the data nodes; Sentinels are sent them too, and one that has
/// no password set is then asked without.
public enum RedisTopology: Sendable, Hashable, CustomStringConvertible {
    case standalone(RedisURL)
    /// Seed nodes, each with the credentials; the rest of the cluster is discovered from them.
    case cluster(seeds: [RedisURL])
    /// The Sentinels, each with the credentials, and the name of the master they watch.
    case sentinel(sentinels: [RedisURL], masterName: String)

    public init(_ string: String) throws(RedisError) {
        let parts = try RedisURLParts(string, schemes: ["redis", "redis+cluster", "redis+sentinel"])
        func urls() -> [RedisURL] {
            parts.hosts.map { RedisURL(host: $0.host, port: $0.port, user: parts.user, password: parts.password) }
        }
        switch parts.scheme {
        case "redis+cluster":
            guard parts.path.isEmpty else { throw parts.invalid("a cluster has no database: remove \"/\(parts.path)\"") }
            self = .cluster(seeds: urls())
        case "redis+sentinel":
            guard !parts.path.isEmpty, !parts.path.contains("/") else {
                throw parts.invalid("expected the master's name as the path: redis+sentinel://host:port/<master-name>")
            }
            self = .sentinel(sentinels: urls(), masterName: parts.path)
        default:
            self = .standalone(try RedisURL(string))
        }
    }

    /// The nodes named in the URL.
    public var urls: [RedisURL] {
        switch self {
        case .standalone(let url): return [url]
        case .cluster(let seeds): return seeds
        case .sentinel(let sentinels, _): return sentinels
        }
    }

    /// The URL with the password masked, safe for logs.
    public var description: String {
        func hosts(_ urls: [RedisURL]) -> String {
            let first = urls[0].description.dropFirst("redis://".count)
            let credentials = first.contains("@") ? String(first[...first.lastIndex(of: "@")!]) : ""
            return credentials + urls.map { $0.host.contains(":") ? "[\($0.host)]:\($0.port)" : "\($0.host):\($0.port)" }.joined(separator: ",")
        }
        switch self {
        case .standalone(let url): return url.description
        case .cluster(let seeds): return "redis+cluster://" + hosts(seeds)
        case .sentinel(let sentinels, let masterName): return "redis+sentinel://" + hosts(sentinels) + "/" + masterName
        }
    }
}
