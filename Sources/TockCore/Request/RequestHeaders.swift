/// The `tock-` headers of one request, each as its last occurrence left it (SPEC: a header given
/// twice counts once, the last), and how many headers are not Tock's: those are copied to the
/// output record.
struct RequestHeaders {
    enum Name: String {
        case topic = "tock-topic"
        case at = "tock-at"
        case delay = "tock-delay"
        case id = "tock-id"
        case key = "tock-key"
        case action = "tock-action"
        case cron = "tock-cron"
        case every = "tock-every"
        case tz = "tock-tz"
        case until = "tock-until"
        case count = "tock-count"
        case catchup = "tock-catchup"
        case tags = "tock-tags"

        /// Any of them makes the request a series.
        static let series: [Name] = [.cron, .every, .tz, .until, .count, .catchup]
    }

    enum Value {
        case absent
        case null
        case bytes([UInt8])

        init(_ value: [UInt8]?) { self = value.map(Value.bytes) ?? .null }

        var isGiven: Bool { if case .absent = self { false } else { true } }
    }

    private var values: [Name: Value] = [:]
    private(set) var copiedCount = 0

    init(_ headers: [RecordHeader]) {
        for header in headers {
            if let name = Name(rawValue: header.key) {
                values[name] = Value(header.value)
            } else if !Self.isTock(header.key) {
                copiedCount += 1
            }
        }
    }

    subscript(_ name: Name) -> Value { values[name] ?? .absent }

    var isSeries: Bool { Name.series.contains { self[$0].isGiven } }

    /// Every `tock-` header is Tock's, known or not: none is copied to the output.
    static func isTock(_ name: String) -> Bool { name.utf8.starts(with: "tock-".utf8) }
}
