import Foundation
import NIOCore
import NIOPosix
import TockConcurrency

/// The one thread an HTTP server runs on: NIO's event loop for its sockets and parsing, and the
/// executor of its routes. Nothing of the server runs on Swift's cooperative pool, whose few
/// threads (two on a two-core host) the worker's fire path needs: a client that keeps the
/// server busy delays other HTTP clients at most, never a delivery.
final class HTTPThread: TaskExecutor {
    let group: MultiThreadedEventLoopGroup
    let loop: any EventLoop

    init(name: String = "tock-http") {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        loop.execute { nameCurrentThread(name) }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}
