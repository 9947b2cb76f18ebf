// swift-tools-version:6.0
import PackageDescription

// The binaries link librdkafka.so.1 from the Debian headers' package, but must run against the
// newer runtime that scripts/setup links into .tools/lib. A RUNPATH there makes a plain
// `swift run` pick it; LD_LIBRARY_PATH still wins, and every binary checks the version at start.
let runtimeLibraryPath = Context.packageDirectory + "/.tools/lib"

// The packages' products, by the name the code imports.
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let heap: Target.Dependency = .product(name: "HeapModule", package: "swift-collections")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let nio: [Target.Dependency] = ["NIOCore", "NIOPosix", "NIOHTTP1"].map { .product(name: $0, package: "swift-nio") }
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")

let package = Package(
    name: "Tock",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tock-worker", targets: ["TockWorker"]),
        .executable(name: "tock-monitor", targets: ["TockMonitor"]),
        .executable(name: "tock", targets: ["TockCLI"]),
        .executable(name: "tock-bench", targets: ["TockBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // libc's prctl and pthread naming, for Tock's threads (timer slack, names). Header only.
        .systemLibrary(name: "CThreadOptions"),
        // No pkg-config: hiredis's adds only its include directory (the shim names
        // <hiredis/hiredis.h>) and -D_FILE_OFFSET_BITS=64, which SwiftPM drops with a warning on
        // every build (a no-op on 64-bit Linux anyway); the module map links the library.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(name: "TockConcurrency", dependencies: ["CThreadOptions"]),
        .target(name: "TockCore", dependencies: [yams, heap]),
        .target(name: "TockTiming", dependencies: ["CThreadOptions", "TockConcurrency", "TockCore", heap]),
        .target(
            name: "TockKafka", dependencies: ["CRdKafka", "TockConcurrency", logging],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", runtimeLibraryPath])]
        ),
        .target(name: "TockRedis", dependencies: ["CHiredis", "TockConcurrency", logging, metrics]),
        .target(name: "TockStore", dependencies: ["TockCore", "TockRedis", logging], resources: [.copy("Scripts")]),
        // The HTTP server (/metrics, /healthz, /readyz and extra routes) and the metrics registry.
        .target(name: "TockHTTP", dependencies: ["TockCore", "TockConcurrency", logging, serviceLifecycle, metrics, prometheus] + nio),
        // What every process does to start: options, configuration, logging, the clock, readiness
        // probes, shared resources. No Kafka: the processes that need it link TockKafka themselves.
        .target(name: "TockRuntime", dependencies: ["TockCore", "TockRedis", "TockStore", argumentParser, logging, serviceLifecycle, metrics]),
        .target(
            name: "TockWorkerKit",
            dependencies: [
                "TockConcurrency", "TockCore", "TockHTTP", "TockTiming", "TockKafka", "TockRedis", "TockStore", "TockRuntime", logging, metrics,
                serviceLifecycle,
            ]
        ),
        // The monitor: shard assignment, the console, and the operators' API (which writes request
        // and audit records to Kafka, and reads tock.dead back).
        .target(
            name: "TockMonitorKit",
            dependencies: ["TockCore", "TockHTTP", "TockKafka", "TockRedis", "TockStore", "TockRuntime", crypto, logging, metrics, serviceLifecycle],
            resources: [.copy("Resources/openapi.json")]
        ),
        .executableTarget(name: "TockWorker", dependencies: ["TockKafka", "TockRuntime", "TockWorkerKit", argumentParser]),
        .executableTarget(name: "TockMonitor", dependencies: ["TockKafka", "TockRuntime", "TockMonitorKit", argumentParser]),
        .executableTarget(
            name: "TockCLI",
            dependencies: ["TockCore", "TockKafka", "TockMonitorKit", "TockRedis", "TockRuntime", "TockStore", "TockTiming", argumentParser]
        ),
        .executableTarget(name: "TockBench", dependencies: ["TockCore", "TockKafka", "TockRedis", "TockStore", "TockTiming", argumentParser]),
        .testTarget(name: "TockCoreTests", dependencies: ["TockCore"]),
        .testTarget(name: "TockTimingTests", dependencies: ["TockCore", "TockTiming"]),
        .testTarget(name: "TockStoreTests", dependencies: ["TockCore", "TockStore"]),
        .testTarget(name: "TockRedisTests", dependencies: ["TockRedis"]),
        .testTarget(name: "TockMonitorKitTests", dependencies: ["TockCore", "TockHTTP", "TockMonitorKit", crypto]),
        .testTarget(name: "TockWorkerKitTests", dependencies: ["TockCore", "TockKafka", "TockStore", "TockWorkerKit", logging]),
        .testTarget(
            name: "TockIntegrationTests",
            dependencies: [
                "TockConcurrency", "TockCore", "TockHTTP", "TockKafka", "TockRedis", "TockStore", "TockRuntime", "TockWorkerKit", "TockMonitorKit",
                crypto, logging, metrics, serviceLifecycle,
            ],
            resources: [.copy("Scripts")]
        ),
    ]
)
