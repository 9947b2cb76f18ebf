/// How a series occurrence is named. In the store's queue, wheels and locks it is
/// `"<series id> <due epoch ms>"`: no `tock-id` has a space, so it never collides with a message's
/// id, and its shard is the series' (`ShardMap`). Published, its `tock-id` is
/// `"<series id>@<due epoch ms>"` (SPEC).
public enum OccurrenceKey {
    public static func key(series: String, dueMillis: Int64) -> String { "\(series) \(dueMillis)" }

    public static func publishedId(series: String, dueMillis: Int64) -> String { "\(series)@\(dueMillis)" }

    /// The series id and due time of an occurrence key; nil for a message id.
    public static func parse(_ key: String) -> (series: String, dueMillis: Int64)? {
        guard let space = key.utf8.firstIndex(of: 0x20), let due = Int64(key[key.index(after: space)...]) else { return nil }
        return (String(key[..<space]), due)
    }

    /// The series id and due time of a published occurrence id (`series@due`), as `tock status` takes it.
    public static func parsePublished(_ id: String) -> (series: String, dueMillis: Int64)? {
        guard let at = id.utf8.lastIndex(of: UInt8(ascii: "@")), let due = Int64(id[id.index(after: at)...]), due >= 0 else { return nil }
        return (String(id[..<at]), due)
    }
}
