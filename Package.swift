// swift-tools-version:6.0
import PackageDescription

// Targets follow ../shared/DESIGN.md: dependencies point down only, and the pure cores
// (RESP, CacheEngine) do no I/O and read no clock.
let strictSwift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Ringcache",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ringcache-server", targets: ["ringcache-server"]),
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "CacheEngine", targets: ["CacheEngine"]),
        .library(name: "Cluster", targets: ["Cluster"]),
        .library(name: "RingcacheClient", targets: ["RingcacheClient"]),
        .library(name: "RingcacheSQLite", targets: ["RingcacheSQLite"]),
        .executable(name: "ringcache-catalogue-example", targets: ["ringcache-catalogue-example"]),
        .executable(name: "ringcache-bench", targets: ["ringcache-bench"]),
        .executable(name: "ringctl", targets: ["ringctl"]),
        .executable(name: "ringcache-fuzz", targets: ["ringcache-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // A real database for the cache-aside adapter; only RingcacheSQLite depends on it.
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Command-line parsing for ringctl and ringcache-bench.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "RESP",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift6
        ),
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(name: "CPrefetch"),
        .systemLibrary(name: "CEpoll"),
        .target(
            name: "CacheEngine",
            dependencies: ["RESP", "CLZ4", "CMalloc", "CPrefetch", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift6
        ),
        .target(
            name: "FuzzTargets",
            dependencies: ["RESP", "CacheEngine", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "ringcache-fuzz",
            dependencies: ["FuzzTargets"],
            swiftSettings: strictSwift6
        ),
        .target(
            name: "Cluster",
            swiftSettings: strictSwift6
        ),
        .target(
            name: "RingcacheServer",
            dependencies: [
                "RESP", "CacheEngine", "Cluster", "CLZ4", "CEpoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift6
        ),
        .target(
            name: "RingcacheClient",
            dependencies: [
                "RESP", "Cluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift6
        ),
        .target(
            name: "RingcacheSQLite",
            dependencies: ["RingcacheClient", .product(name: "SQLiteNIO", package: "sqlite-nio")],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "ringcache-catalogue-example",
            dependencies: ["RingcacheClient", "RingcacheSQLite"],
            swiftSettings: strictSwift6
        ),
        .target(name: "BenchCore", swiftSettings: strictSwift6),
        .executableTarget(
            name: "ringcache-bench",
            dependencies: ["RingcacheClient", "BenchCore", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "ringctl",
            dependencies: ["RingcacheClient", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "ringcache-server",
            dependencies: ["RingcacheServer"],
            swiftSettings: strictSwift6
        ),
        .testTarget(name: "RESPTests", dependencies: ["RESP"], swiftSettings: strictSwift6),
        .testTarget(name: "CLZ4Tests", dependencies: ["CLZ4"], swiftSettings: strictSwift6),
        .testTarget(name: "CacheEngineTests", dependencies: ["CacheEngine", "RESP"], swiftSettings: strictSwift6),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster"], swiftSettings: strictSwift6),
        .testTarget(name: "BenchCoreTests", dependencies: ["BenchCore"], swiftSettings: strictSwift6),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"], swiftSettings: strictSwift6),
        .testTarget(name: "RingcacheServerTests", dependencies: ["RingcacheServer", "CacheEngine", "Cluster"], swiftSettings: strictSwift6),
        .testTarget(
            name: "RingcacheClientTests",
            dependencies: ["RingcacheClient", "RingcacheSQLite", "RESP", "Cluster", .product(name: "MetricsTestKit", package: "swift-metrics"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strictSwift6
        ),
    ]
)
