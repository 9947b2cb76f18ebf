import Foundation
import NIOCore
import NIOPosix
import TockConcurrency

/// The one thread an HTTP server runs on: NIO's event loop for its sockets and parsing, and the
/// executor of its routes. Nothing of the server runs on Swift's cooperative pool, whose few
/// threads (two on a two-core host) the worker's fire path needs; and the thread runs at nice
/// 10, so while clients keep it busy the fire path's threads still get the CPU first. A client
/// can so delay other HTTP clients, never a delivery.
final class HTTPThread: TaskExecutor {
    let group: MultiThreadedEventLoopGroup
    let loop: any EventLoop

    init(name: String = "tock-http") {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        loop.execute {
            nameCurrentThread(name)
            setCurrentThreadNice(10)
        }
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
