/// A delivery lock's id, `<token>:<n>` (`prelude.lua`'s `isLockOf`): the token of the process that
/// took it (`WorkerState.token`, `<worker id>/<random>`) and a sequence number of that process.
/// A restarted worker has a new token, so it never takes its previous life's locks for its own.
public enum LockID {
    public static func make(token: String, sequence: Int) -> String { "\(token):\(sequence)" }

    /// The token of the process that took `lock`; nil for a malformed id.
    public static func token(of lock: String) -> String? {
        guard let colon = lock.lastIndex(of: ":"), Int(lock[lock.index(after: colon)...]) != nil else { return nil }
        return String(lock[..<colon])
    }
}
