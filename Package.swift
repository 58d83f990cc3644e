// swift-tools-version: 6.1
import Foundation
import PackageDescription

// The build's identity for `rulebook --version` (Sources/CBuildInfo): the commit and the
// day, from the environment the Makefile's release builds set. Only safe characters pass;
// anything else, or nothing, leaves the value out (a development build).
func buildInfo(_ name: String) -> [CSetting] {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:+_")
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty, value.count <= 64,
          value.allSatisfy({ allowed.contains($0) })
    else { return [] }
    return [.define(name, to: "\"\(value)\"")]
}

let package = Package(
    name: "Rulebook",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rulebook", targets: ["rulebook"]),
        .library(name: "RulebookCore", targets: ["RulebookCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // `rulebook serve`: HTTP on SwiftNIO, graceful shutdown (swift-service-lifecycle),
        // structured logs (swift-log); bcrypt for passwords; Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        // Already among Hummingbird's own dependencies: named for the server's request deadline.
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.25.0"),
        // Property-based tests of the engine's laws (tests only).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        // Debian's libyaml (libyaml-dev), found through pkg-config; never a vendored copy.
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        // OpenSSL's libcrypto (Debian's libssl-dev) for SHA-256: the register's hash chains.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        // PostgreSQL's own client library, libpq (Debian's libpq-dev): the PostgreSQL
        // register. Chosen over postgres-nio, which would compile two copies of BoringSSL
        // (swift-crypto's and swift-nio-ssl's) into each of CI's four builds; libpq uses the
        // system's OpenSSL, takes every libpq address and setting, and its calls block,
        // as the register's own do. Loaded on first use (see its shim.h), as libcurl is.
        .systemLibrary(
            name: "CLibPQ",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // libcurl's header (Debian's libcurl4-openssl-dev): webhooks over HTTP(S) and mail
        // over SMTP. Not linked: loaded when the notifier first sends (see its shim.h).
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        // The commit and build day `rulebook --version` prints (see buildInfo above).
        .target(name: "CBuildInfo", cSettings: buildInfo("RULEBOOK_BUILD_COMMIT") + buildInfo("RULEBOOK_BUILD_DATE")),
        // Diagnostics shared by every stage: severity, message, span, notes, hint.
        .target(name: "RulebookDiagnostics"),
        // YAML (over libyaml) and JSON readers producing one positioned node tree.
        .target(name: "RulebookYAML", dependencies: ["CYAML", "RulebookDiagnostics"]),
        // The pure core: policy model, expressions, validator, engine, renderers. No file system, no exit.
        .target(name: "RulebookCore", dependencies: ["RulebookYAML", "RulebookDiagnostics", .product(name: "Mustache", package: "swift-mustache")]),
        // The incident register: SQLite (GRDB) with an append-only, hash-chained trail.
        .target(
            name: "RulebookRegister",
            dependencies: [
                "RulebookCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the verifier's row-by-row walk over millions of records.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CLibCrypto",
            ]
        ),
        // The register in PostgreSQL: the same tables, append-only triggers and a writer role
        // without UPDATE or DELETE; copied into from an SQLite register and verified by the
        // same chain walk (see PostgresRegister.swift).
        .target(
            name: "RulebookPostgres",
            dependencies: [
                "RulebookCore",
                "RulebookRegister",
                "CLibPQ",
            ]
        ),
        // Deadlines that find people: reminders, overdue duties and audit findings sent as
        // signed webhooks and mail, each once, from an outbox kept in the register.
        .target(name: "RulebookNotify", dependencies: ["RulebookCore", "RulebookRegister", "CCurl", "CLibCrypto"]),
        // `rulebook serve`: the register as an HTTP JSON API (a thin shell, as the CLI is).
        // The OpenAPI description and the JSON Schemas it refers to are built in.
        .target(
            name: "RulebookServer",
            dependencies: [
                "RulebookCore",
                "RulebookRegister",
                "RulebookNotify",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [
                .embedInCode("Resources/openapi.yaml"),
                .embedInCode("Resources/next.schema.json"),
                .embedInCode("Resources/assess.schema.json"),
                .embedInCode("Resources/audit.schema.json"),
                .embedInCode("Resources/coverage.schema.json"),
                .embedInCode("Resources/report.schema.json"),
                // The web pages: Mustache templates and the one stylesheet.
                .embedInCode("Resources/pages/layout.mustache"),
                .embedInCode("Resources/pages/sign_in.mustache"),
                .embedInCode("Resources/pages/incidents.mustache"),
                .embedInCode("Resources/pages/report.mustache"),
                .embedInCode("Resources/pages/incident.mustache"),
                .embedInCode("Resources/pages/duty.mustache"),
                .embedInCode("Resources/pages/record.mustache"),
                .embedInCode("Resources/pages/fact.mustache"),
                .embedInCode("Resources/pages/policies.mustache"),
                .embedInCode("Resources/pages/policy.mustache"),
                .embedInCode("Resources/pages/error.mustache"),
                .embedInCode("Resources/pages/audit.mustache"),
                .embedInCode("Resources/pages/record_page.mustache"),
                .embedInCode("Resources/pages/style.css"),
            ]
        ),
        // The thin command-line shell: I/O, formatting choice, exit statuses. A library, so
        // the fuzzing harness can drive its command-line readers; the executable calls it.
        .target(
            name: "RulebookCLI",
            dependencies: [
                "RulebookCore",
                "RulebookRegister",
                "RulebookNotify",
                "RulebookServer",
                "RulebookPostgres",
                "CBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "rulebook", dependencies: ["RulebookCLI"]),
        // The fuzzing harness (make fuzz): built with -sanitize=fuzzer,address and
        // -DFUZZING it is a libFuzzer binary; built plainly it replays corpus files
        // through every target, which the tests do with the committed corpus.
        .executableTarget(
            name: "rulebook-fuzz",
            dependencies: ["RulebookCLI", "RulebookCore", "RulebookYAML", "RulebookRegister"],
            path: "Tests/Fuzz/Harness"
        ),
        // The benchmarks (make bench): its own harness with warm-up, repeated runs, medians
        // and spread, on incidents generated with a fixed seed; peak memory per benchmark
        // from a child process each.
        .executableTarget(
            name: "rulebook-bench",
            dependencies: [
                "RulebookCore",
                "RulebookRegister",
                "RulebookYAML",
                "RulebookTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/RulebookBench"
        ),
        // The bare Swift process the cold start is compared with, built the same way.
        .executableTarget(name: "bench-hello", path: "Benchmarks/Hello"),
        // Starts each measured child, so its peak memory is its own (see its header).
        .executableTarget(name: "bench-launch", path: "Benchmarks/Launch"),
        // Shared by the test targets: marked positions, fixture paths, running the binary.
        .target(name: "RulebookTestSupport", dependencies: ["RulebookDiagnostics"], path: "Tests/Support"),
        .testTarget(name: "RulebookYAMLTests", dependencies: ["RulebookYAML", "RulebookTestSupport"]),
        .testTarget(name: "RulebookDiagnosticsTests", dependencies: ["RulebookDiagnostics", "RulebookTestSupport"]),
        .testTarget(
            name: "RulebookCoreTests",
            dependencies: [
                "RulebookCore", "RulebookYAML", "RulebookTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "RulebookRegisterTests", dependencies: ["RulebookRegister", "RulebookTestSupport"]),
        .testTarget(name: "RulebookCLITests", dependencies: ["RulebookTestSupport"]),
        // The shells' own logic, in process: the command line's fast path against ArgumentParser,
        // and the pages' escaping, Markdown and form reading.
        .testTarget(
            name: "RulebookCommandTests",
            dependencies: ["RulebookCLI", "RulebookServer", .product(name: "Mustache", package: "swift-mustache")]
        ),
    ]
)
