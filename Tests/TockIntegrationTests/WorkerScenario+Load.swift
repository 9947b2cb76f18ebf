import TockKafka
import TockStore

/// What tests of running workers do over and over: start a worker that serves HTTP, send a load of
/// requests, make a topic of their own.
extension WorkerScenario {
    /// Starts a worker (`startWorker`) that serves HTTP on a free port; returns it and the port.
    func startWorkerOnFreePort(
        id: String = "w1", env: [String: String] = [:], config: String? = nil, waitReady: Bool = true
    ) async throws -> (worker: WorkerProcessHandle, port: UInt16) {
        let port = try TestSocket.freePort()
        let worker = try await startWorker(
            id: id, env: env.merging(["TOCK_HTTP_PORT": "\(port)"]) { _, new in new }, config: config, waitReady: waitReady)
        return (worker, port)
    }

    /// Starts worker `id` in a consumer group of its own, `<groupId>-<group>`, which has committed
    /// nothing (so it reads the input topic from the earliest offset), serving HTTP on a free port.
    func startInNewGroup(_ id: String, group: String, config: String? = nil) async throws -> (worker: WorkerProcessHandle, port: UInt16) {
        try await startWorkerOnFreePort(id: id, env: ["TOCK_KAFKA_GROUP_ID": "\(groupId)-\(group)"], config: config)
    }

    /// Sends `count` requests with ids `prefix-0`, `prefix-1`, …: the i-th due `offset(i)` ms after
    /// the time they are made, keyed `key(i)`, on partition i % 4. With `store`, waits until it
    /// holds them all (`sendStored`). Returns that time and the ids.
    @discardableResult
    func sendSpaced(
        _ prefix: String, count: Int, storedIn store: ScheduleStore? = nil, key: (Int) -> String? = { _ in "k" },
        dueAfter offset: (Int) -> Int64
    ) async throws -> (start: Int64, ids: [String]) {
        let start = Self.now
        let ids = (0..<count).map { "\(prefix)-\($0)" }
        let records = ids.indices.map { request(id: ids[$0], at: start + offset($0), key: key($0), partition: Int32($0 % 4)) }
        if let store { try await sendStored(records, store: store) } else { try await send(records) }
        return (start, ids)
    }

    /// Creates the topic `<prefix>-<name>` (`partitions`, one replica) on this scenario's brokers;
    /// returns its name.
    func createTopic(_ prefix: String, partitions: Int) async throws -> String {
        let topic = "\(prefix)-\(name)"
        try await createTopics([(topic, partitions)])
        return topic
    }

    /// Creates each (name, partitions) of `topics`, one replica, on this scenario's brokers.
    func createTopics(_ topics: [(name: String, partitions: Int)]) async throws {
        let admin = try KafkaAdmin(brokers: brokers)
        try await admin.createTopics(topics.map { ($0.name, $0.partitions, 1) })
        await admin.close()
    }
}

extension OutputCollector {
    /// Waits until every payload of `expected` arrived on `topic` (or `within` passed), adds what
    /// the log holds that was not fetched (`catchUp`) and lets the rest arrive (`settle`).
    func waitForPayloads(_ expected: Set<String>, on topic: String, within: Duration) async {
        await waitUntil(on: topic, within: within) { expected.isSubset(of: Set($0.map(\.payload))) }
        await catchUp(on: topic)
        await settle(on: topic)
    }
}
