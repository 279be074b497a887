// swift-tools-version:6.1
import PackageDescription

/// The project's library modules are compiled with `-O` in debug builds too: the tests spend
/// nearly all their CPU in them (the crash simulation parses, hashes, plans, diffs and applies
/// thousands of passes; the engine and target processes the tests start run the same code), and
/// the debug build's unoptimized code made the suite take 24-28 s instead of about 14. Their
/// dependencies, the executables' entry points and the test modules stay unoptimized. Set
/// OUTBOARD_ONONE=1 when building to compile everything without optimization, e.g. to step
/// through these modules in a debugger.
let optimizedInDebug: [SwiftSetting] =
    Context.environment["OUTBOARD_ONONE"] == nil ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : []

let package = Package(
    name: "Outboard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "outboard", targets: ["outboard"]),
        .executable(name: "outboard-target", targets: ["outboard-target"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // One trait only: with both of its default traits, SwiftPM passed their -D flags in a
        // different order in each invocation, so every `swift build` after a `swift test`
        // re-planned the build and recompiled Hummingbird. Outboard does not use
        // swift-configuration (the other trait), which is then not built at all.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Hummingbird's own dependency, named because the servers use its ByteBuffer directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The PostgreSQL store (`--store postgres://…`): engines that share their subscriptions.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // System libraries (Debian: libxml2-dev, libcurl4-openssl-dev; installed by .ci/setup).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure: the iCalendar tree, its parser and writer, items, canonical form and hash.
        .target(name: "CalendarModel", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: optimizedInDebug),
        // Pure: recurrence sets and time zones (RRULE, RDATE, EXDATE, overrides, VTIMEZONE, tzdata
        // through one seam, Windows zone names): every instance at its instant.
        .target(name: "Recurrence", dependencies: ["CalendarModel"], swiftSettings: optimizedInDebug),
        // Pure (libxml2): hardened XML reading into a small element tree, and writing.
        .target(name: "SafeXML", dependencies: ["CLibXML2"], swiftSettings: optimizedInDebug),
        // Pure (libxml2): RFC 6321 xCal reader and writer.
        .target(name: "XCal", dependencies: ["CalendarModel", "SafeXML"], swiftSettings: optimizedInDebug),
        // Pure: YAML configuration files read with line numbers and every problem collected.
        .target(name: "YAMLConfig", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: optimizedInDebug),
        // Pure: curator filter rules, their loading and the pipeline.
        .target(name: "Filters", dependencies: ["CalendarModel", "YAMLConfig", .product(name: "Yams", package: "Yams")], swiftSettings: optimizedInDebug),
        // Pure: the field-level diff, apply, and (later) the planner.
        .target(name: "SyncCore", dependencies: ["CalendarModel"], swiftSettings: optimizedInDebug),
        // Pure (libxml2): CalWS-SOAP messages and their codec; PROTOCOL.md and Examples/ document them.
        .target(name: "CalWS", dependencies: ["CalendarModel", "SyncCore", "XCal", "SafeXML"],
                exclude: ["PROTOCOL.md", "Examples"], swiftSettings: optimizedInDebug),
        // I/O: what both servers share (request logging without secrets).
        .target(name: "ServerSupport", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: optimizedInDebug),
        // The engine's own words: subscriptions and their loader, the seams (feed source, calendar
        // target, status store), the pass over them with its pure decisions, and verify. No I/O
        // library: what a pass reads and writes goes through the seams.
        .target(name: "Engine", dependencies: [
            "CalendarModel", "SyncCore", "Filters", "YAMLConfig", "Recurrence",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: optimizedInDebug),
        // I/O: the seams' implementations (libcurl fetching of feeds and CalDAV collections, the
        // CalWS-SOAP target, the SQLite status store) and the composition root that picks them by `source.type`, `target.type`
        // and the store's URL.
        .target(name: "EngineAdapters", dependencies: [
            "Engine", "CCurl", "CalendarModel", "CalWS", "SafeXML", "SyncCore", "Filters", "ServerSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], swiftSettings: optimizedInDebug),
        // I/O: the daemon: the scheduler, the control endpoint and status page, metrics, the
        // configuration watcher.
        .target(name: "EngineDaemon", dependencies: [
            "Engine", "CalendarModel", "ServerSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: optimizedInDebug),
        // The in-memory doubles of the engine's seams (feed, target, status store), for the tests
        // of the pass and of a new adapter: what `NIOEmbedded` is to NIO.
        .target(name: "EngineTesting", dependencies: ["Engine", "CalendarModel", "SyncCore"],
                swiftSettings: optimizedInDebug),
        // The commands that only read and write files (`ics`) and what every command shares
        // (console, input files, exit codes): no I/O library but libxml2.
        .target(name: "FileCommands", dependencies: [
            "CalendarModel", "XCal", "SafeXML", "Recurrence", "SyncCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimizedInDebug),
        // The CLI's commands, kept in a library so tests drive the same code the executables run.
        .target(name: "OutboardCLI", dependencies: [
            "FileCommands", "CalendarModel", "XCal", "SafeXML", "Recurrence", "Engine", "EngineAdapters", "EngineDaemon",
            "Filters", "SyncCore", "CalWS",
            "YAMLConfig",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: optimizedInDebug),
        .executableTarget(name: "outboard", dependencies: ["OutboardCLI"]),
        // I/O: the reference target server (Hummingbird, SQLite through GRDB). Never imports the engine.
        .target(name: "TargetServer", dependencies: [
            "CalendarModel", "Recurrence", "SyncCore", "CalWS", "XCal", "SafeXML", "ServerSupport", "YAMLConfig",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: optimizedInDebug),
        .executableTarget(name: "outboard-target", dependencies: [
            "TargetServer", "CalendarModel", "YAMLConfig",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Deterministic generators shared by the tests and the benchmark (not shipped in a product).
        .target(name: "TestSupport", swiftSettings: optimizedInDebug),
        .executableTarget(name: "outboard-bench", dependencies: ["CalendarModel", "XCal", "SyncCore", "TestSupport", "Engine", "EngineAdapters", "CalWS", "Filters", "Recurrence"]),

        .testTarget(name: "CalendarModelTests", dependencies: ["CalendarModel", "XCal", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "RecurrenceTests", dependencies: ["Recurrence", "CalendarModel", "SafeXML"], resources: [.copy("Fixtures")]),
        .testTarget(name: "XCalTests", dependencies: ["XCal", "CalendarModel", "SafeXML", "TestSupport"]),
        .testTarget(name: "FiltersTests", dependencies: ["Filters", "CalendarModel", "YAMLConfig"]),
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore", "CalendarModel", "CalWS", "XCal", "SafeXML", "TestSupport"]),
        .testTarget(name: "OutboardCLITests", dependencies: ["OutboardCLI", "FileCommands", "Engine", "EngineAdapters", "EngineDaemon", "SyncCore", "CalendarModel", "TestSupport"]),
        .testTarget(name: "TargetServerTests", dependencies: ["TargetServer", "Engine", "EngineAdapters", "CalWS", "CalendarModel", "Recurrence", "SyncCore", "TestSupport", "YAMLConfig",
                                                          .product(name: "GRDB", package: "GRDB.swift"),
                                                          .product(name: "Hummingbird", package: "hummingbird"),
                                                          .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                          .product(name: "Logging", package: "swift-log"),
                                                          .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "EngineAdapters", "EngineDaemon", "EngineTesting", "Filters", "CalWS", "CalendarModel", "SyncCore", "TestSupport", "YAMLConfig", "ServerSupport",
                                                    .product(name: "GRDB", package: "GRDB.swift"),
                                                    .product(name: "Hummingbird", package: "hummingbird"),
                                                    .product(name: "NIOCore", package: "swift-nio")],
                    exclude: ["Fixtures"]),
    ]
)
