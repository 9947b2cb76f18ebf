/// The `tock-tags` header (SPEC v3): at most 8 comma-separated tags of 1–64 printable ASCII bytes
/// (0x20–0x7E: a space is printable, and kept as given; a comma separates), for cancelling by tag.
/// A tag given twice counts once.
public enum TagList {
    public static let maxTags = 8
    public static let maxTagBytes = 64

    /// The tags of a header value, in order, each once; or the reason they are `bad-tags`.
    public static func parse(utf8 bytes: [UInt8]) -> Result<[String], RequestRejection> {
        let parts = bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard parts.count <= maxTags else {
            return .failure(bad("tock-tags has \(parts.count) tags; at most \(maxTags) are allowed."))
        }
        var tags: [String] = []
        for (index, part) in parts.enumerated() {
            guard !part.isEmpty, part.count <= maxTagBytes else {
                return .failure(bad("tag \(index + 1) of tock-tags is \(part.count) bytes; a tag is 1 to \(maxTagBytes) bytes."))
            }
            guard part.allSatisfy({ (0x20...0x7E).contains($0) }) else {
                return .failure(bad("tag \(index + 1) of tock-tags has a byte that is not printable ASCII."))
            }
            let tag = String(decoding: part, as: UTF8.self)
            if !tags.contains(tag) { tags.append(tag) }
        }
        return .success(tags)
    }

    /// The header value for `tags`, or the reason it would be `bad-tags`.
    public static func header(for tags: [String]) -> Result<String, RequestRejection> {
        if let comma = tags.first(where: { $0.contains(",") }) {
            return .failure(bad("the tag \"\(comma.prefix(64))\" has a comma; tags are separated by commas in tock-tags."))
        }
        let value = tags.joined(separator: ",")
        return parse(utf8: Array(value.utf8)).map { _ in value }
    }

    private static func bad(_ detail: String) -> RequestRejection { RequestRejection(code: .badTags, detail: detail) }
}
