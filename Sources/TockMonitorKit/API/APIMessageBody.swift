import Foundation
import TockCore

/// The body of `POST /v1/messages`, `PATCH /v1/messages/<id>` and `POST /v1/dead/<id>/requeue`
/// (SPEC "The operators' API"). Times and counts may be JSON numbers or strings; each field
/// becomes the header of the same meaning, so the worker parses an API request exactly as any
/// other.
public struct APIMessageBody: Decodable, Sendable, Equatable {
    public var topic: String?
    public var at: String?
    public var delay: String?
    public var id: String?
    public var key: String?
    public var value: String?
    public var valueBase64: String?
    public var headers: [String: String]?
    public var tags: [String]?
    public var cron: String?
    public var every: String?
    public var tz: String?
    public var until: String?
    public var count: String?
    public var catchup: String?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case topic, at, delay, id, key, value, valueBase64, headers, tags, cron, every, tz, until, count, catchup
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw APIBodyError("unknown field \"\(unknown)\"; the fields are \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let keyed = try decoder.container(keyedBy: CodingKeys.self)
        topic = try keyed.decodeIfPresent(String.self, forKey: .topic)
        at = try Self.text(keyed, .at)
        delay = try Self.text(keyed, .delay)
        id = try keyed.decodeIfPresent(String.self, forKey: .id)
        key = try keyed.decodeIfPresent(String.self, forKey: .key)
        value = try keyed.decodeIfPresent(String.self, forKey: .value)
        valueBase64 = try keyed.decodeIfPresent(String.self, forKey: .valueBase64)
        headers = try keyed.decodeIfPresent([String: String].self, forKey: .headers)
        tags = try keyed.decodeIfPresent([String].self, forKey: .tags)
        cron = try keyed.decodeIfPresent(String.self, forKey: .cron)
        every = try Self.text(keyed, .every)
        tz = try keyed.decodeIfPresent(String.self, forKey: .tz)
        until = try Self.text(keyed, .until)
        count = try Self.text(keyed, .count)
        catchup = try keyed.decodeIfPresent(String.self, forKey: .catchup)
    }

    /// A string, or an integer written as one (`at: 1767225600000`, `delay: 30000`).
    private static func text(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> String? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        if let number = try? container.decode(Int64.self, forKey: key) { return String(number) }
        return try container.decodeIfPresent(String.self, forKey: key)
    }

    /// Parses a request body; an empty one is an empty object.
    public static func decode(_ bytes: [UInt8]) throws(APIBodyError) -> APIMessageBody {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return APIMessageBody() }
        do {
            return try JSONDecoder().decode(APIMessageBody.self, from: Data(bytes))
        } catch let error as APIBodyError {
            throw error
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIBodyError("\(path.isEmpty ? "the body" : "\"\(path)\"") must be \(Self.describe(type))")
        } catch {
            throw APIBodyError("the body is not a JSON object of the documented fields (/v1/openapi.json)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is [String].Type: "an array of strings"
        case is [String: String].Type: "an object of strings"
        default: "of the documented type (/v1/openapi.json)"
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// A body the API cannot turn into a request: 400 with `code` (`bad-body`, or the rejection code
/// the worker would give, e.g. `bad-tags`).
public struct APIBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var code: String
    public init(_ message: String, code: String = "bad-body") {
        self.message = message
        self.code = code
    }
    public var description: String { message }
}
