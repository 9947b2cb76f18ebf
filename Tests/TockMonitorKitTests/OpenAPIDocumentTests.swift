import Foundation
import Testing

@testable import TockMonitorKit

@Suite("The OpenAPI document")
struct OpenAPIDocumentTests {
    func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
    }

    @Test("is OpenAPI 3.1 and describes exactly the routes the monitor serves under /v1/")
    func matchesRoutes() throws {
        let document = try document()
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        let methods = ["get", "post", "put", "patch", "delete"]
        for (path, item) in paths {
            // A path parameter and all after it is the router's prefix match.
            let pattern = path.firstIndex(of: "{").map { String(path[..<$0]) + "*" } ?? path
            for method in methods where item[method] != nil { documented.insert("\(method.uppercased()) \(pattern)") }
        }
        #expect(documented == MonitorRoutes.apiPatterns, "\(documented.symmetricDifference(MonitorRoutes.apiPatterns))")
    }

    @Test("every $ref names a schema the document has")
    func references() throws {
        let text = String(decoding: OpenAPIDocument.bytes, as: UTF8.self)
        let schemas = try #require((try document()["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let refs = text.split(separator: "\"#/components/schemas/").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(!refs.isEmpty)
        for ref in refs { #expect(schemas[String(ref)] != nil, "\(ref)") }
    }
}
