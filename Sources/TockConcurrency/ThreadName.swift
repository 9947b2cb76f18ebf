import CThreadOptions

/// Names the calling thread (Linux keeps the first 15 bytes), so `top -H` and `/proc/PID/task`
/// tell Tock's dedicated threads apart; a new thread otherwise inherits its creator's name.
public func nameCurrentThread(_ name: String) {
    _ = tock_set_thread_name(name)
}
