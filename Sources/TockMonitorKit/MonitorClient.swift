import Foundation
import TockCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Asks a tock-monitor for its `/v1/cluster` (what `tock stats` prints). Anything else that
/// answers there (a tock-worker serves the same port by default, with a 404) is reported as
/// what it is, naming the URL and the HTTP status.
public enum MonitorClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where to look: the address given on the command line, else `monitor.url`, else this
    /// host's `http.port`.
    public static func baseURL(option: String?, configuration: TockConfiguration) -> String {
        if let option, !option.isEmpty { return option }
        if !configuration.monitor.url.isEmpty { return configuration.monitor.url }
        return "http://127.0.0.1:\(configuration.http.port)"
    }

    /// GETs `<base>/v1/cluster`; returns the snapshot and the JSON as served.
    public static func cluster(at base: String, timeout: TimeInterval = 10) async throws(Failure) -> (snapshot: ClusterSnapshot, json: Data) {
        let address = base.hasSuffix("/") ? "\(base)v1/cluster" : "\(base)/v1/cluster"
        guard let url = URL(string: address), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw Failure(description: "not an http:// address of a tock-monitor: \(base)\(hint)")
        }
        let data: Data
        let response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: timeout)) } catch {
            throw Failure(description: "cannot reach a tock-monitor at \(address): \(error.localizedDescription)\(hint)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw Failure(description: "\(address) answered HTTP \(status)\(excerpt(data)), not a tock-monitor's cluster view\(hint)")
        }
        do {
            return (try JSONDecoder().decode(ClusterSnapshot.self, from: data), data)
        } catch {
            throw Failure(
                description: "\(address) answered HTTP 200, but not with a tock-monitor's cluster view (\(reason(error)))\(excerpt(data))\(hint)")
        }
    }

    private static let hint = "; expected a tock-monitor's HTTP address (--monitor, monitor.url or TOCK_MONITOR_URL)"

    /// The start of a body, so that the reader can tell what answered instead.
    private static func excerpt(_ data: Data) -> String {
        let text = String(decoding: data.prefix(120), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "" }
        return ": \"\(text.replacingOccurrences(of: "\n", with: " "))\(data.count > 120 ? "…" : "")\""
    }

    private static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "no \"\(key.stringValue)\" field"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "unexpected \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case .dataCorrupted: "not JSON"
        default: "\(error)"
        }
    }
}
