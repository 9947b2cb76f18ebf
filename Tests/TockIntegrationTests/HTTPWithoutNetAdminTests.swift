import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP server as it runs in a container: without CAP_NET_ADMIN (Docker drops it), a socket
/// option that needs it fails with EACCES. The NIO server once set TCP_NODELAY at SOL_SOCKET's
/// level, which is SO_DEBUG: in `scripts/compose test` the first health check ended both
/// monitors' servers, and the monitors with them.
@Suite("HTTP without CAP_NET_ADMIN")
struct HTTPWithoutNetAdminTests {
    /// Opens a connection and resets it at once (SO_LINGER 0): the server accepts a socket that is
    /// already gone.
    static func connectAndReset(port: UInt16) async throws {
        try await TestSocket.onThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return }
            var resetOnClose = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &resetOnClose, socklen_t(MemoryLayout<Glibc.linger>.size))
            _ = TestSocket.withSockaddr(TestSocket.loopback(port: port)) { connect(fd, $0, $1) }
            close(fd)
        }
    }

    @Test("a worker without CAP_NET_ADMIN answers /healthz, again after 200 connections reset as they were accepted")
    func serverWithoutNetAdmin() async throws {
        let s = try await WorkerScenario("no-net-admin")
        let port = try TestSocket.freePort()
        let worker = try WorkerProcessHandle.launch(
            name: "\(s.name)-w1", environment: s.environment(workerID: "w1", ["TOCK_HTTP_PORT": "\(port)"]), configYAML: nil,
            wrapper: ["/usr/bin/setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"])
        defer { Task { await worker.kill9() } }
        try await worker.waitForLog("HTTP listening", within: .seconds(30))

        let first = try await TestSocket.get(port: port, path: "/healthz")
        for _ in 0..<200 { try await Self.connectAndReset(port: port) }
        let after = try await TestSocket.get(port: port, path: "/healthz")
        #expect(first.status == 200, "\(first)")
        #expect(after.status == 200, "\(after)")
        #expect(worker.isRunning, "\(worker.log.suffix(2_000))")
        #expect(!worker.log.contains("HTTP server"), "\(worker.log.suffix(2_000))")
        await worker.expectCleanExit()
    }
}
