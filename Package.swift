// swift-tools-version:6.2
import PackageDescription

/// lk-forwarder: the Linux agent that turns NDJSON log lines and journald entries into
/// lk events on AWS Kinesis. One module per concern; data flows one way, from the inputs
/// through the rules and the pipeline to the sinks, and acknowledgements flow back to
/// the checkpoints. The event model, JSON and the rules build without NIO or libsystemd.
let package = Package(
    name: "lk-forwarder",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lk-forwarder", targets: ["lk-forwarder"]),
        .executable(name: "lk-bench", targets: ["lk-bench"]),
        /// The lk-dispatch call as a Swift library: `Dispatcher(client:stream:producerId:)`.
        .library(name: "LKDispatch", targets: ["Sinks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // Pure computation: no NIO, no libsystemd.
        .target(name: "JSON"),
        .target(name: "LKEvent", dependencies: ["JSON"]),
        .target(name: "Config", dependencies: ["JSON", .product(name: "Yams", package: "Yams")]),
        .target(name: "Rules", dependencies: ["JSON", "LKEvent", "Config"]),
        .target(name: "Checkpoints", dependencies: [.product(name: "Logging", package: "swift-log")]),

        // Inputs.
        .target(
            name: "FileInput",
            dependencies: [
                "Checkpoints",
                "Config",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(
            name: "JournalInput",
            dependencies: ["CSystemd", "Checkpoints", "Config", "JSON", .product(name: "Logging", package: "swift-log")]
        ),

        // Outputs.
        .target(
            name: "Kinesis",
            dependencies: [
                "JSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Sinks",
            dependencies: ["LKEvent", "Kinesis", "Config", .product(name: "Logging", package: "swift-log")]
        ),

        // The agent.
        .target(
            name: "Pipeline",
            dependencies: [
                "JSON", "LKEvent", "Config", "Rules", "Checkpoints", "FileInput", "JournalInput", "Kinesis", "Sinks",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Service",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "lk-forwarder",
            dependencies: [
                "JSON", "LKEvent", "Config", "Rules", "Checkpoints", "Kinesis", "Sinks", "Pipeline", "Service",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // jemalloc replaces glibc's malloc in the agent, as Fluent Bit and Vector do:
            // events are made on one thread and freed on another, which glibc's arenas pay
            // for in locks (docs/performance.md has the figures).
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        /// Benchmark commands (release builds): see docs/performance.md.
        .executableTarget(
            name: "lk-bench",
            dependencies: [
                "JSON", "LKEvent", "Config", "Rules", "Checkpoints", "FileInput", "JournalInput", "Kinesis", "Sinks",
                "Pipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "LKEventTests", dependencies: ["LKEvent", "JSON"]),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "Config", "JSON", "LKEvent"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FileInputTests", dependencies: ["FileInput", "Checkpoints", "Config", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "JournalInputTests",
            dependencies: ["JournalInput", "Checkpoints", "Config", "JSON", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "KinesisTests",
            dependencies: ["Kinesis", "Sinks", "LKEvent", "JSON", "Config", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Checkpoints", "Sinks", "LKEvent", "Config"]),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "Service",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
