import TockCore

/// Routes by method and path. A pattern is `"GET /v1/cluster"` (exactly that path) or
/// `"GET /v1/messages/*"` (the prefix before `*`, with at least one more character). A `GET`
/// route answers `HEAD` too (the server leaves the body out). A malformed target gets a JSON 400,
/// a path no route has a JSON 404, a known path with another method a JSON 405.
struct HTTPRouter: Sendable {
    struct Route: Sendable {
        var method: String
        var path: String
        var isPrefix: Bool
        var handler: HTTPService.Route

        func matches(path candidate: String) -> Bool {
            isPrefix ? candidate.hasPrefix(path) && candidate.count > path.count : candidate == path
        }
    }

    private(set) var routes: [Route] = []

    /// Later routes are tried after earlier ones.
    mutating func add(_ pattern: String, _ handler: @escaping HTTPService.Route) {
        let parts = pattern.split(separator: " ", maxSplits: 1).map(String.init)
        precondition(parts.count == 2 && parts[1].hasPrefix("/"), "a route pattern is \"METHOD /path\", not \(pattern)")
        let isPrefix = parts[1].hasSuffix("*")
        routes.append(Route(method: parts[0], path: isPrefix ? String(parts[1].dropLast()) : parts[1], isPrefix: isPrefix, handler: handler))
    }

    /// The response to a request whose head is `method` and `target`.
    func respond(method: String, target: String, headers: [(name: String, value: String)], body: [UInt8], remote: String = "") async -> HTTPResponse {
        let parsed: HTTPTarget
        do {
            parsed = try HTTPTarget.parse(target)
        } catch {
            return .error(400, "malformed path: \(error.description)")
        }
        let request = HTTPRequest(method: method, path: parsed.path, query: parsed.query, headers: headers, body: body, remote: remote)
        let candidates = routes.filter { $0.matches(path: parsed.path) }
        let lookup = method == "HEAD" ? "GET" : method
        if let route = candidates.first(where: { $0.method == lookup }) {
            return await route.handler(request)
        }
        if candidates.isEmpty { return .error(404, "no such path: \(parsed.path)") }
        let allowed = Set(candidates.map(\.method)).sorted().joined(separator: ", ")
        var response = HTTPResponse.error(405, "\(method) is not allowed here; use \(allowed)")
        response.headers.append(("Allow", allowed))
        return response
    }
}
