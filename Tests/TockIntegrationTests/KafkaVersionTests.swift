import Testing
import TockKafka

@Suite struct KafkaVersionTests {
    @Test func librdkafkaRuntimeIsAtLeast2_2_0() throws {
        let runtime = LibrdkafkaVersion.runtime
        #expect(runtime.major > 2 || (runtime.major == 2 && runtime.minor >= 2), "runtime librdkafka \(runtime.string)")
        #expect(runtime.string.hasPrefix("\(runtime.major).\(runtime.minor).\(runtime.patch)"))
        #expect(LibrdkafkaVersion.isSupported)
        #expect(LibrdkafkaVersion.runtimeProblem() == nil)
        try LibrdkafkaVersion.checkRuntime()
    }

    @Test func badPropertyIsReportedWithItsKey() {
        do {
            _ = try KafkaTestSupport.producer("config", properties: ["linger.ms": "soon"])
            Issue.record("an invalid linger.ms was accepted")
        } catch let error as KafkaError {
            #expect(error.configKey == "linger.ms")
            #expect(error.message.contains("linger.ms"))
            #expect(!error.isRetriable)
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: KafkaError.self) {
            _ = try KafkaConsumer(brokers: KafkaTestSupport.brokers, groupId: "g", topics: ["t"], properties: ["no.such.property": "1"])
        }
    }
}
