import Foundation
import Synchronization

/// Faults a test can make certain, from `TOCK_TEST_FAULTS` (comma-separated `name=count`), in a
/// real worker against the real Redis and broker. None is set in production.
///
/// - `store-reply-lost=N`: the first N store pipelines that Redis applied report a lost reply
///   (as a command timeout would), so the worker reads their batches again.
public final class FaultPoints: Sendable {
    public static let environmentVariable = "TOCK_TEST_FAULTS"

    private let storeRepliesToLose: Mutex<Int>

    public init(storeRepliesToLose: Int = 0) {
        self.storeRepliesToLose = Mutex(storeRepliesToLose)
    }

    /// Parses `store-reply-lost=2`; unknown names are an error, so a typo cannot pass a test.
    public convenience init(environment: [String: String]) throws(ParseError) {
        var lost = 0
        for item in (environment[Self.environmentVariable] ?? "").split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == "store-reply-lost", let count = Int(parts[1]), count >= 0 else {
                throw ParseError(description: "\(Self.environmentVariable): cannot read \"\(item)\" (known: store-reply-lost=N)")
            }
            lost = count
        }
        self.init(storeRepliesToLose: lost)
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// True when this applied store's reply is to be lost.
    func loseStoreReply() -> Bool {
        storeRepliesToLose.withLock { remaining in
            guard remaining > 0 else { return false }
            remaining -= 1
            return true
        }
    }
}
