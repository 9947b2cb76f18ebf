import CRdKafka

/// Owns an `rd_kafka_conf_t` until `rd_kafka_new` takes it over.
///
/// librdkafka takes the configuration only when `rd_kafka_new` succeeds; on failure the caller
/// still owns it. `consume` models that: the object frees the conf in `deinit` unless it was
/// handed over.
final class KafkaConfiguration {
    private var pointer: OpaquePointer?

    /// Applies `properties` in key order, so a failure always names the same key.
    init(_ properties: [String: String]) throws(KafkaError) {
        pointer = rd_kafka_conf_new()
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            try set(key, value)
        }
    }

    deinit {
        if let pointer { rd_kafka_conf_destroy(pointer) }
    }

    func set(_ key: String, _ value: String) throws(KafkaError) {
        guard let pointer else { preconditionFailure("configuration already handed to rd_kafka_new") }
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(pointer, key, value, &errstr, errstr.count)
        guard result == RD_KAFKA_CONF_OK else {
            let reason = String(errorBuffer: errstr)
            throw KafkaError.config(key: key, value: value, reason: reason.isEmpty ? "rejected (\(result.rawValue))" : reason)
        }
    }

    /// Lends the conf pointer, e.g. to install callbacks.
    func withUnsafePointer<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        guard let pointer else { preconditionFailure("configuration already handed to rd_kafka_new") }
        return try body(pointer)
    }

    /// Gives the conf to `body` (typically `rd_kafka_new`); if `body` reports that it took
    /// ownership, this object no longer frees it.
    func consume<T>(_ body: (OpaquePointer) -> (result: T, tookOwnership: Bool)) -> T {
        guard let pointer else { preconditionFailure("configuration already handed to rd_kafka_new") }
        let outcome = body(pointer)
        if outcome.tookOwnership { self.pointer = nil }
        return outcome.result
    }

    /// Checks `properties` the way a client would, without creating one.
    static func validate(_ properties: [String: String]) throws(KafkaError) {
        _ = try KafkaConfiguration(properties)
    }
}

extension String {
    /// Decodes a NUL-terminated C error buffer (librdkafka's `errstr` out-parameters).
    init(errorBuffer buffer: [CChar]) {
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
