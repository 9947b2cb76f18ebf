import CRdKafka
import Foundation
import Synchronization
import TockConcurrency

/// A dedicated OS thread that keeps calling `rd_kafka_poll`, which serves delivery reports and
/// error callbacks. It borrows the handle for one short poll at a time, so `destroy()` never
/// waits long, and it ends on `stop()` or once the handle is destroyed.
///
/// With `busyIntervalMilliseconds`, while messages are outstanding it polls on that interval
/// instead of waking for each report: a publisher that serves reports itself
/// (`KafkaProducer.serveDeliveryReports`) then pays no thread wake-up per produce request.
final class KafkaPollingThread: Sendable {
    private final class Control: Sendable {
        let stopRequested = Atomic<Bool>(false)
        let exited = DispatchSemaphore(value: 0)
    }

    private let control = Control()
    private let client: KafkaClientHandle

    init(name: String, client: KafkaClientHandle, intervalMilliseconds: Int32 = 100, busyIntervalMilliseconds: Int32? = nil) {
        self.client = client
        let control = self.control
        // The thread holds the handle and the control block, never `self`, so releasing the
        // owner still runs deinit.
        let thread = Thread {
            nameCurrentThread(name)
            while !control.stopRequested.load(ordering: .acquiring) {
                do {
                    let busy = try client.withHandle { rk in
                        if busyIntervalMilliseconds != nil && rd_kafka_outq_len(rk) > 0 {
                            rd_kafka_poll(rk, 0)
                            return true
                        }
                        rd_kafka_poll(rk, intervalMilliseconds)
                        return false
                    }
                    if busy, let busyInterval = busyIntervalMilliseconds { usleep(UInt32(busyInterval) * 1_000) }
                } catch {
                    break
                }
            }
            control.exited.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to end; with `wait`, blocks until it has (call that off the cooperative pool).
    func stop(wait: Bool) {
        guard !control.stopRequested.exchange(true, ordering: .acquiringAndReleasing) else {
            if wait {
                control.exited.wait()
                control.exited.signal()
            }
            return
        }
        // Cuts the current rd_kafka_poll short.
        _ = try? client.withHandle { rk in rd_kafka_yield(rk) }
        if wait {
            control.exited.wait()
            control.exited.signal()
        }
    }
}
