import Foundation
import Logging
import TockCore
import TockHTTP
import TockKafka
import TockStore

/// The operators' API's writes and dead-letter routes (SPEC "The operators' API"), each behind
/// `APIGate`. Writes become request records on the first input topic, checked first with the
/// worker's own parser so that a request the worker would reject is answered 400 with its code.
public struct APIRoutes: Sendable {
    let gate: APIGate
    let writer: APIWriter
    let dead: DeadLetterReader
    let store: ScheduleStore
    let parser: RequestParser
    let clock: any WallClock

    public init(
        configuration: TockConfiguration, gate: APIGate, writer: APIWriter, dead: DeadLetterReader, store: ScheduleStore, clock: any WallClock
    ) {
        self.gate = gate
        self.writer = writer
        self.dead = dead
        self.store = store
        parser = RequestParser(configuration: configuration)
        self.clock = clock
    }

    public var routes: [String: HTTPService.Route] {
        [
            "POST /v1/messages": gate.write { request, _ in await schedule(request) },
            "DELETE /v1/messages/*": gate.write { request, _ in await cancel(request) },
            "PATCH /v1/messages/*": gate.write { request, _ in await reschedule(request) },
            "GET /v1/dead": gate.read { request, _ in await listDead(request) },
            "POST /v1/dead/*": gate.write { request, _ in await requeue(request) },
            "POST /v1/series/*": gate.write { request, _ in await pauseOrResume(request) },
            "DELETE /v1/tags/*": gate.write { request, caller in await cancelTag(request, caller: caller) },
            "GET /v1/jobs/*": gate.read { request, _ in await job(request) },
        ]
    }

    // MARK: Messages

    func schedule(_ request: HTTPRequest) async -> APIOutcome {
        let record: APIRequestRecord
        do {
            record = try APIRequestRecord.make(try APIMessageBody.decode(request.body), action: .schedule)
        } catch {
            return .error(400, error.message, code: error.code)
        }
        return await submit(record)
    }

    func cancel(_ request: HTTPRequest) async -> APIOutcome {
        let id = String(request.path.dropFirst("/v1/messages/".count))
        return await submit(.cancel(id: id), id: id)
    }

    /// A reschedule: fields left out keep the pending message's topic, key, value and headers when
    /// it is hot; a cold or unknown one needs its topic given.
    func reschedule(_ request: HTTPRequest) async -> APIOutcome {
        let id = String(request.path.dropFirst("/v1/messages/".count))
        var body: APIMessageBody
        do {
            body = try APIMessageBody.decode(request.body)
        } catch {
            return .error(400, error.message, code: error.code, id: id)
        }
        if body.at == nil && body.delay == nil && body.cron == nil && body.every == nil {
            return .error(
                400, "a reschedule needs a new time: at or delay (or a series' cron or every)", code: RejectionCode.missingTime.rawValue, id: id)
        }
        var inherited: ScheduledMessage?
        if body.topic == nil || (body.value == nil && body.valueBase64 == nil) || body.key == nil || body.headers == nil {
            inherited = try? await store.lookUp(id, nowMillis: clock.nowMillis()).status.message
        }
        var record: APIRequestRecord
        do {
            if body.topic == nil { body.topic = inherited?.topic }
            record = try APIRequestRecord.make(body, action: .reschedule, id: id)
        } catch {
            return .error(400, error.message, code: error.code, id: id)
        }
        if let inherited {
            if body.key == nil { record.key = inherited.key }
            if body.value == nil && body.valueBase64 == nil { record.value = inherited.value }
            if body.headers == nil { record.headers = inherited.headers + record.headers }
        }
        return await submit(record, id: id)
    }

    // MARK: Dead letters

    func listDead(_ request: HTTPRequest) async -> APIOutcome {
        let limitText = request.queryValue("limit") ?? "100"
        guard let limit = Int(limitText), (1...1_000).contains(limit) else {
            return .error(400, "limit must be an integer from 1 to 1000, not \"\(limitText.prefix(40))\"", code: "bad-query")
        }
        do {
            let letters = try await dead.newest(limit: limit)
            return APIOutcome(.json(["dead": letters.map(\.summary)]))
        } catch {
            return .error(503, "tock.dead could not be read: \(error)")
        }
    }

    func requeue(_ request: HTTPRequest) async -> APIOutcome {
        let rest = request.path.dropFirst("/v1/dead/".count)
        guard rest.hasSuffix("/requeue"), rest.count > "/requeue".count else {
            return .error(404, "no such path: \(request.path); requeue is POST /v1/dead/<tock-id>/requeue", code: "not-found")
        }
        let id = String(rest.dropLast("/requeue".count))
        let body: APIMessageBody
        do {
            body = try APIMessageBody.decode(request.body)
        } catch {
            return .error(400, error.message, code: error.code, id: id)
        }
        let extra =
            [body.topic, body.delay, body.key, body.value, body.valueBase64, body.cron, body.every].contains { $0 != nil } || body.headers != nil
        if extra { return .error(400, "a requeue takes only at (default: now)", code: "bad-body", id: id) }
        let letter: DeadLetter?
        do {
            letter = try await dead.find(id: id)
        } catch {
            return .error(503, "tock.dead could not be read: \(error)", id: id)
        }
        guard let letter else { return .error(404, "no dead letter with tock-id \(id) in tock.dead", code: "not-found", id: id) }
        return await submit(.requeue(letter, at: body.at ?? String(clock.nowMillis())), id: id)
    }

    // MARK: Series

    /// `POST /v1/series/<id>/pause` and `/resume`: a request with `tock-action` pause or resume.
    /// An id that names no series now is 404 (one whose request is still on its way reads so too).
    func pauseOrResume(_ request: HTTPRequest) async -> APIOutcome {
        let rest = request.path.dropFirst("/v1/series/".count)
        let action: APIRequestRecord.Action
        let id: String
        if rest.hasSuffix("/pause"), rest.count > "/pause".count {
            (action, id) = (.pause, String(rest.dropLast("/pause".count)))
        } else if rest.hasSuffix("/resume"), rest.count > "/resume".count {
            (action, id) = (.resume, String(rest.dropLast("/resume".count)))
        } else {
            return .error(404, "no such path: \(request.path); use POST /v1/series/<id>/pause or /resume", code: "not-found")
        }
        if !request.body.isEmpty, (try? APIMessageBody.decode(request.body)) != APIMessageBody() {
            return .error(400, "pause and resume take no body", code: "bad-body", id: id)
        }
        do {
            let found = try await store.lookUp(id, nowMillis: clock.nowMillis())
            guard found.status.series != nil, found.occurrenceOf == nil else {
                return .error(404, "no series with id \(id) is pending (state \(found.status.state.rawValue))", code: "not-found", id: id)
            }
        } catch {
            return .error(503, "Redis could not be read: \(error)", id: id)
        }
        return await submit(.action(action, id: id), id: id)
    }

    // MARK: Tags

    /// `DELETE /v1/tags/<tag>`: a job that cancels every pending message and series with the tag,
    /// hot or cold (`TagCancelJob`), run by the leading monitor.
    func cancelTag(_ request: HTTPRequest, caller: String) async -> APIOutcome {
        let tag = String(request.path.dropFirst("/v1/tags/".count))
        if case .failure(let rejection) = TagList.parse(utf8: Array(tag.utf8)) {
            return .error(400, rejection.detail, code: rejection.code.rawValue, id: tag)
        }
        guard !tag.contains(",") else { return .error(400, "one tag at a time: \(tag.prefix(80))", code: RejectionCode.badTags.rawValue, id: tag) }
        let id = "job-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let job = TagCancelJob(job: id, tag: tag, shardCount: store.shardMap.shardCount, nowMillis: clock.nowMillis(), requestedBy: caller)
        do {
            try await store.saveTagJob(id, state: job.encoded)
        } catch {
            return .error(503, "the job could not be written to Redis: \(error)", id: tag)
        }
        return APIOutcome(.json(["job": id], status: 202), id: "\(tag) \(id)")
    }

    func job(_ request: HTTPRequest) async -> APIOutcome {
        let id = String(request.path.dropFirst("/v1/jobs/".count))
        do {
            guard let text = try await store.tagJob(id), let job = TagCancelJob.decode(text) else {
                return .error(404, "no job \(id.prefix(80))", code: "not-found")
            }
            return APIOutcome(.json(job.report))
        } catch {
            return .error(503, "Redis could not be read: \(error)")
        }
    }

    // MARK: Writing

    /// Checks `record` as the worker will, then writes it: 202 with its id and position.
    func submit(_ record: APIRequestRecord, id: String? = nil) async -> APIOutcome {
        let parsed: ParsedRequest
        switch record.check(with: parser, inputTopic: writer.inputTopic, nowMillis: clock.nowMillis()) {
        case .success(let request): parsed = request
        case .failure(let rejection): return .error(400, rejection.detail, code: rejection.code.rawValue, id: id)
        }
        do {
            let report = try await writer.write(record)
            let given: String? = if case .schedule(let message) = parsed, !message.idWasGiven { nil } else { parsed.id }
            let resolved = given ?? "\(report.topic)/\(report.partition)/\(report.offset)"
            return APIOutcome(.json(Accepted(id: resolved, partition: report.partition, offset: report.offset), status: 202), id: resolved)
        } catch {
            return .error(503, "the request could not be written to \(writer.inputTopic): \(error)", id: id)
        }
    }

    struct Accepted: Codable, Equatable {
        var id: String
        var partition: Int32
        var offset: Int64
    }
}
