import Foundation
import TockCore
import TockHTTP
import TockRuntime
import TockStore

/// The monitor's HTTP routes besides `/metrics`, `/healthz` and `/readyz`: the console page at
/// `/`, and under `/v1/` the API (`/v1/cluster`, the console's data at `/v1/console`,
/// `/v1/messages/<tock-id>` and the operators' writes, `APIRoutes`), every one of them behind
/// `APIGate` but the OpenAPI document.
enum MonitorRoutes {
    static func make(monitor: MonitorService, console: ConsoleService, store: ScheduleStore, gate: APIGate, api: APIRoutes) -> [String: HTTPService
        .Route]
    {
        var routes: [String: HTTPService.Route] = [
            "GET /": { _ in .html(ConsolePage.html) },
            "GET /v1/openapi.json": { _ in OpenAPIDocument.response },
            "GET /v1/cluster": gate.read { _, _ in APIOutcome(.json(monitor.currentSnapshot)) },
            "GET /v1/console": gate.read { _, _ in APIOutcome(.json(console.current)) },
            "GET /v1/messages/": gate.read { _, _ in .error(400, "give a tock-id: /v1/messages/<tock-id>") },
            // The id is the rest of the path, percent-decoded (the console encodes it whole).
            "GET /v1/messages/*": gate.read { request, _ in
                let id = String(request.path.dropFirst("/v1/messages/".count))
                do {
                    return APIOutcome(.json(try await MessageLookup.find(id, in: store, nowMillis: monitor.clock.nowMillis())))
                } catch {
                    return .error(503, "\(error)")
                }
            },
        ]
        routes.merge(api.routes) { _, new in new }
        precondition(
            Set(routes.keys) == Set(patterns), "MonitorRoutes.patterns differs from the routes: \(Set(routes.keys).symmetricDifference(patterns))")
        return routes
    }

    /// Every route `make` serves. A unit test checks the API's against `Resources/openapi.json`;
    /// `make` checks them against its routes.
    static let patterns: Set<String> = [
        "GET /", "GET /v1/openapi.json", "GET /v1/cluster", "GET /v1/console", "GET /v1/messages/", "GET /v1/messages/*", "POST /v1/messages",
        "DELETE /v1/messages/*", "PATCH /v1/messages/*", "GET /v1/dead", "POST /v1/dead/*",
        "POST /v1/series/*", "DELETE /v1/tags/*", "GET /v1/jobs/*",
    ]

    /// The patterns the OpenAPI document describes: the console page and the bare
    /// `/v1/messages/` (a hint to give an id) are not part of the API.
    static var apiPatterns: Set<String> { patterns.subtracting(["GET /", "GET /v1/messages/"]) }
}
