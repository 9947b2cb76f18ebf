import Foundation
import TockHTTP

/// The OpenAPI 3.1 document of the monitor's API, `Resources/openapi.json`: served as is at
/// `/v1/openapi.json`, and checked against the routes by a test so the two cannot drift.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Array(#"{"error": "the OpenAPI document is missing from this build"}"#.utf8)
        }
        return Array(data)
    }()

    static var response: HTTPResponse { HTTPResponse(contentType: "application/json", body: bytes) }
}
