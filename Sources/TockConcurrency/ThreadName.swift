import CThreadOptions

/// Names the calling thread (Linux keeps the first 15 bytes), so `top -H` and `/proc/PID/task`
/// tell Tock's dedicated threads apart; a new thread otherwise inherits its creator's name.
public func nameCurrentThread(_ name: String) {
    _ = tock_set_thread_name(name)
}

/// Gives the calling thread `nice` (Linux: per thread; 10 = it gets the CPU only when the
/// process's other threads leave it some). False when the kernel refused.
@discardableResult
public func setCurrentThreadNice(_ nice: Int32) -> Bool {
    tock_set_thread_nice(nice) == 0
}
