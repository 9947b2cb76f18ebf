import Foundation
import Synchronization

/// Faults a test can make certain, from `TOCK_TEST_FAULTS` (comma-separated `name=count`), in a
/// real worker against the real Redis and broker. None is set in production.
///
/// - `store-reply-lost=N`: the first N store pipelines that Redis applied report a lost reply
///   (as a command timeout would), so the worker reads their batches again.
/// - `kill-before-finish=N`: the worker SIGKILLs itself when the N-th publish slice has its
///   broker acknowledgements and its outcome is about to be recorded: its records are in Kafka
///   and its lock says nothing of them.
/// - `hang-before-publish=N`: the N-th publish slice never goes on to publish (as a stage that
///   waits forever would), while the worker lives on and renews what it holds.
public final class FaultPoints: Sendable {
    public static let environmentVariable = "TOCK_TEST_FAULTS"

    private let storeRepliesToLose: Mutex<Int>
    private let slicesBeforeKill: Mutex<Int>
    private let slicesBeforeHang: Mutex<Int>

    public init(storeRepliesToLose: Int = 0, killBeforeFinishingSlice: Int = 0, hangBeforePublishingSlice: Int = 0) {
        self.storeRepliesToLose = Mutex(storeRepliesToLose)
        self.slicesBeforeKill = Mutex(killBeforeFinishingSlice)
        self.slicesBeforeHang = Mutex(hangBeforePublishingSlice)
    }

    /// Parses `store-reply-lost=2,kill-before-finish=3`; unknown names are an error, so a typo
    /// cannot pass a test.
    public convenience init(environment: [String: String]) throws(ParseError) {
        var counts = ["store-reply-lost": 0, "kill-before-finish": 0, "hang-before-publish": 0]
        for item in (environment[Self.environmentVariable] ?? "").split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, counts[parts[0]] != nil, let count = Int(parts[1]), count >= 0 else {
                throw ParseError(
                    description:
                        "\(Self.environmentVariable): cannot read \"\(item)\" (known: store-reply-lost=N, kill-before-finish=N, hang-before-publish=N)"
                )
            }
            counts[parts[0]] = count
        }
        self.init(
            storeRepliesToLose: counts["store-reply-lost"]!, killBeforeFinishingSlice: counts["kill-before-finish"]!,
            hangBeforePublishingSlice: counts["hang-before-publish"]!)
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

    /// SIGKILLs the process when this is the slice to die before its outcome is recorded.
    func killIfDueBeforeFinishing(_ published: Int) {
        let due = slicesBeforeKill.withLock { remaining in
            guard remaining > 0 else { return false }
            remaining -= 1
            return remaining == 0
        }
        guard due else { return }
        FileHandle.standardError.write(Data("fault point kill-before-finish: SIGKILL before recording \(published) published deliveries\n".utf8))
        kill(getpid(), SIGKILL)
    }

    /// Waits until the task is cancelled when this is the slice to hang before publishing.
    func hangIfDueBeforePublishing(_ deliveries: [String]) async {
        let due = slicesBeforeHang.withLock { remaining in
            guard remaining > 0 else { return false }
            remaining -= 1
            return remaining == 0
        }
        guard due else { return }
        FileHandle.standardError.write(Data("fault point hang-before-publish: holding \(deliveries) unpublished\n".utf8))
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
    }
}
