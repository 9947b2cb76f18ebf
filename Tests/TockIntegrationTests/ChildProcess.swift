import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts helper programs (scripts/stack, redis-server) for the tests with posix_spawn, so that
/// they inherit nothing but standard input, output and error. popen and a plain spawn pass on
/// every descriptor, among them the listening sockets of tests running meanwhile: a daemon the
/// program starts would then keep such a socket accepting after its test closed it.
enum ChildProcess {
    /// Makes the spawned program inherit only descriptors 0, 1 and 2 (after `actions` set them up).
    static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        // glibc (2.34+) has posix_spawn_file_actions_addclosefrom_np; Swift's Glibc module does
        // not declare it.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
    }

    /// Attributes that give the child default signal handling and no blocked signals, whatever
    /// the spawning thread had.
    static func withCleanSignals<T>(_ body: (inout posix_spawnattr_t) throws -> T) rethrows -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return try body(&attributes)
    }

    /// Runs `arguments` (the first is the program, found on PATH) to its end on the calling
    /// thread; returns its exit status and standard output (and standard error when
    /// `mergingStandardError`; else that goes to the tests' own).
    static func run(_ arguments: [String], mergingStandardError: Bool = false) -> (status: Int32, output: String) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return (-1, "pipe: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        if mergingStandardError { posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2) }
        closeInheritedDescriptors(&actions)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = withCleanSignals { attributes in posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ) }
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        guard spawned == 0 else { return (-1, "cannot start \(arguments[0]): errno \(spawned)") }
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(pipeEnds[0], &buffer, buffer.count)
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
                continue
            }
            if count < 0 && errno == EINTR { continue }
            break
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // A wait status: the exit code is its second byte.
        return ((status >> 8) & 0xff, String(decoding: output, as: UTF8.self))
    }
}
