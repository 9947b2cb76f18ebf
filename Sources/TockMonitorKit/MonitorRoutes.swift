import FlyingFox
import Foundation
import TockCore
import TockRuntime
import TockStore

/// The monitor's HTTP routes besides `/metrics`, `/healthz` and `/readyz`: `/v1/cluster`, the
/// console page at `/`, its data at `/v1/console`, and `/v1/messages/<tock-id>`. All read-only.
enum MonitorRoutes {
    static func make(monitor: MonitorService, console: ConsoleService, store: ScheduleStore) -> [String: HTTPService.Route] {
        [
            "GET /v1/cluster": { _ in json(monitor.currentSnapshot) },
            "GET /": { _ in HTTPResponse(statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: Data(ConsolePage.html.utf8)) },
            "GET /v1/console": { _ in json(console.current) },
            "GET /v1/messages/*": { request in
                let id = String(request.path.dropFirst("/v1/messages/".count))
                guard !id.isEmpty else { return json(["error": "give a tock-id: /v1/messages/<tock-id>"], status: .badRequest) }
                do {
                    return json(try await MessageLookup.find(id, in: store, nowMillis: monitor.clock.nowMillis()))
                } catch {
                    return json(["error": "\(error)"], status: .serviceUnavailable)
                }
            },
        ]
    }

    static func json(_ value: some Encodable, status: HTTPStatusCode = .ok) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return HTTPResponse(statusCode: status, headers: [.contentType: "application/json"], body: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
