// swift-tools-version: 6.0
import PackageDescription

// Layers, in the direction data flows:
// kernel → FUSE (binding) → MaviFS (views) → MaviLibrary (metadata + block cache) → MaviClient (HTTP).
// MaviServer is separate and shares only MaviAPI (the wire model) with the client.
let package = Package(
    name: "mavifs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mavifs", targets: ["mavifs"]),
        .library(name: "FUSE", targets: ["FUSE"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.10.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        // Metrics: named counters and timers in each layer, exported for Prometheus by `mount --metrics-addr`.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The config file of `mavifs mount` ($XDG_CONFIG_HOME/mavifs/config.toml).
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CFuse3",
            pkgConfig: "fuse3",
            providers: [.apt(["libfuse3-dev"])]
        ),
        // gdk-pixbuf and GLib: cover frames made into desktop thumbnails, file URIs formed as GIO forms them.
        .systemLibrary(
            name: "CGdkPixbuf",
            pkgConfig: "gdk-pixbuf-2.0",
            providers: [.apt(["libgdk-pixbuf-2.0-dev"])]
        ),
        // glibc's malloc.h: the mount limits its heap arenas.
        .systemLibrary(name: "CMalloc"),
        .target(
            name: "FUSE",
            dependencies: [
                "CFuse3",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "MaviAPI"),
        .target(
            name: "MaviClient",
            dependencies: [
                "MaviAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "MaviLibrary",
            dependencies: [
                "MaviAPI",
                "MaviClient",
                .product(name: "Logging", package: "swift-log"),
                // Stream chunks arrive as ByteBuffers; fsync and hole punching run on NIO's thread pool.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The listing store between mounts.
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Thumbnails in the Thumbnail Managing Standard's cache, made from cover frames.
        .target(name: "Thumbnails", dependencies: ["CGdkPixbuf"]),
        .target(
            name: "MaviFS",
            dependencies: [
                "FUSE",
                "Thumbnails",
                "MaviAPI",
                "MaviLibrary",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "MaviServer",
            dependencies: [
                "MaviAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                // Outbound HTTP: processing callbacks and `upload_url` fetches.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "mavifs",
            dependencies: [
                "CMalloc",
                "FUSE",
                "MaviAPI",
                "MaviClient",
                "MaviLibrary",
                "MaviFS",
                "MaviServer",
                "Thumbnails",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                // The /metrics listener.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Shared helpers for tests: bounded waits, temporary directories, mounts that always unmount,
        // running the built `mavifs` binary, starting a local server.
        .target(
            name: "TestSupport",
            dependencies: [
                "FUSE",
                "MaviServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "FUSETests", dependencies: ["FUSE", "TestSupport"]),
        .testTarget(name: "MaviAPITests", dependencies: ["MaviAPI", "TestSupport"]),
        .testTarget(
            name: "MaviClientTests",
            dependencies: [
                "MaviClient", "MaviAPI", "MaviServer", "TestSupport",
                // A replay server on loopback that answers with the documented reply shapes.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MaviServerTests",
            dependencies: [
                "MaviServer", "MaviAPI", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                // A tiny receiver for processing callbacks.
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // Runs the built `mavifs` binary as a subprocess against an in-process server.
        .testTarget(name: "MavifsCommandTests", dependencies: ["MaviClient", "MaviAPI", "MaviLibrary", "MaviServer", "TestSupport"]),
        .testTarget(name: "MaviLibraryTests", dependencies: [
            "MaviLibrary", "MaviClient", "MaviAPI", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "ThumbnailsTests", dependencies: ["Thumbnails", "TestSupport"]),
        .testTarget(name: "MaviFSTests", dependencies: ["MaviFS", "Thumbnails", "MaviLibrary", "MaviClient", "MaviServer", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
