import Synchronization
import TockCore

/// What the worker did lately, for the summary its heartbeats carry to the monitors' console.
public final class WorkerActivity: Sendable {
    private struct Fields {
        var window = FireWindow()
        var rejected: [String: Int] = [:]
        var deadLetters: [String: Int] = [:]
    }

    private let fields = Mutex(Fields())

    public init() {}

    func fired(nowMillis: Int64, latenessMillis: Int64?) {
        fields.withLock { $0.window.record(nowMillis: nowMillis, latenessMillis: latenessMillis) }
    }

    func rejected(_ codes: [String]) {
        guard !codes.isEmpty else { return }
        fields.withLock { for code in codes { $0.rejected[code, default: 0] += 1 } }
    }

    func deadLettered(_ code: String) { fields.withLock { $0.deadLetters[code, default: 0] += 1 } }

    public func summary(nowMillis: Int64) -> WorkerSummary {
        fields.withLock { f in
            let recent = f.window.summary(nowMillis: nowMillis)
            return WorkerSummary(
                firedPerSecond: recent.perSecond, latenessP50Millis: recent.p50, latenessP99Millis: recent.p99,
                firedTotal: f.window.firedTotal, rejected: f.rejected, deadLetters: f.deadLetters)
        }
    }
}
