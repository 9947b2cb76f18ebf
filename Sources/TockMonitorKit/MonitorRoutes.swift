import Foundation
import TockCore
import TockHTTP
import TockRuntime
import TockStore

/// The monitor's HTTP routes besides `/metrics`, `/healthz` and `/readyz`: `/v1/cluster`, the
/// console page at `/`, its data at `/v1/console`, and `/v1/messages/<tock-id>`. All read-only.
enum MonitorRoutes {
    static func make(monitor: MonitorService, console: ConsoleService, store: ScheduleStore) -> [String: HTTPService.Route] {
        [
            "GET /v1/cluster": { _ in .json(monitor.currentSnapshot) },
            "GET /": { _ in .html(ConsolePage.html) },
            "GET /v1/console": { _ in .json(console.current) },
            "GET /v1/messages/": { _ in .error(400, "give a tock-id: /v1/messages/<tock-id>") },
            // The id is the rest of the path, percent-decoded (the console encodes it whole).
            "GET /v1/messages/*": { request in
                let id = String(request.path.dropFirst("/v1/messages/".count))
                do {
                    return .json(try await MessageLookup.find(id, in: store, nowMillis: monitor.clock.nowMillis()))
                } catch {
                    return .error(503, "\(error)")
                }
            },
        ]
    }
}
