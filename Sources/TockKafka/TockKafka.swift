// TockKafka: Tock's Kafka client on top of librdkafka, and the only module that imports CRdKafka.
//
// Each C handle is owned by one class that frees it in deinit and lends its pointer only inside a
// closure; callbacks reach Swift state through librdkafka's opaque pointer. Blocking librdkafka
// calls run on dedicated threads, never on Swift's cooperative pool. Executables call
// `LibrdkafkaVersion.checkRuntime()` first: the Debian runtime (2.0.2) cannot talk to the broker.
