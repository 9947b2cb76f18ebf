import Foundation
import TockCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The command line's way to a tock-monitor's API (`tock cancel --tag`, `tock dead`, `tock
/// series`): one request, its status and JSON, with the token as a header, never in the URL.
public struct APIClient: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let base: String
    public let token: String?

    public init(base: String, token: String?) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends `method path` (the path percent-encoded by the caller) with `body` as JSON.
    public func send(_ method: String, _ path: String, body: [String: String]? = nil, timeout: TimeInterval = 30) async throws(Failure) -> (
        status: Int, json: [String: Any]
    ) {
        guard let url = URL(string: base + path), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            throw Failure(description: "not an http:// address of a tock-monitor: \(base)")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try? JSONSerialization.data(withJSONObject: body)
        }
        let data: Data
        let response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw Failure(description: "cannot reach a tock-monitor at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, json)
    }

    /// `send`, for answers that must be `expected`: otherwise the API's error, with a hint for 401/403.
    public func call(_ method: String, _ path: String, body: [String: String]? = nil, expected: Int) async throws(Failure) -> [String: Any] {
        let (status, json) = try await send(method, path, body: body)
        guard status == expected else {
            var message = "\(method) \(base)\(path) answered \(status): \(json["error"] as? String ?? "no JSON error")"
            if let code = json["code"] as? String { message += " (\(code))" }
            if status == 401 || status == 403 { message += "; give a write token with --token or TOCK_API_TOKEN" }
            throw Failure(description: message)
        }
        return json
    }

    /// A path segment: everything but unreserved characters percent-encoded (a tock-id may hold `/`).
    public static func segment(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"))
            ?? text
    }
}
