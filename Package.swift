// swift-tools-version:6.0
import Foundation
import PackageDescription

// Every Swift target of Tessera's own, tests included, builds with warnings as errors, so a line
// the compiler doubts (an `Optional.none` where a nodata `.none` was meant) cannot ship. Only
// this package's targets: unsafe flags never reach dependencies.
let warningsAsErrors: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
  name: "tessera",
  products: [
    .executable(name: "tessera", targets: ["tessera"]),
    .executable(name: "tessera-engine", targets: ["TesseraEngine"]),
    .library(name: "TesseraCore", targets: ["TesseraCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // GDAL's C API. Include and link flags come from pkg-config only.
    .systemLibrary(
      name: "CGDAL",
      pkgConfig: "gdal",
      providers: [.apt(["libgdal-dev"])]
    ),
    // A GDAL virtual file system that forwards to real files and remembers failed writes,
    // so a write failure is known to be the output's. C, because GDAL calls it on its threads.
    .target(name: "CVSIWatch", dependencies: ["CGDAL"]),
    // The Swift face of GDAL: handles, errors, progress. Nothing Tessera-specific.
    .target(name: "GDAL", dependencies: ["CGDAL", "CVSIWatch"], swiftSettings: warningsAsErrors),
    // System calls Glibc's Swift module does not offer (renameat2), and the signal handlers
    // installed before main.
    .target(name: "CSystem"),
    // giflib, for timelapse's animated GIFs.
    .systemLibrary(name: "CGIF", providers: [.apt(["libgif-dev"])]),
    // The operations and their building blocks, one folder per capability (see
    // docs/ARCHITECTURE.md); knows nothing of argument parsing.
    .target(name: "TesseraCore", dependencies: ["GDAL", "CSystem", "CGIF"], swiftSettings: warningsAsErrors),
    // One ParsableCommand per subcommand (Commands/), the option groups they share (Options/),
    // and how a command runs: errors to exit codes, signals, progress (Runtime/).
    .target(
      name: "TesseraCLI",
      dependencies: [
        "TesseraCore", "GDAL",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: warningsAsErrors
    ),
    // The program itself.
    .executableTarget(name: "TesseraEngine", dependencies: ["TesseraCLI", "CSystem"], swiftSettings: warningsAsErrors),
    // The `tessera` command: a static C launcher that runs tessera-engine with the signals
    // blocked until its handler exists (see main.c for why). SwiftPM links it with swiftc, whose
    // startup object (swiftrt.o) would pull in the whole Swift runtime: -nostartfiles leaves it
    // out, so the launcher is C and glibc only.
    // (Linked dynamically under `make sanitize`, whose runtimes do not link statically.)
    .executableTarget(name: "tessera", linkerSettings: ProcessInfo.processInfo.environment["TESSERA_SANITIZE"] == nil
                      ? [.unsafeFlags(["-static-executable", "-nostartfiles"])] : []),
    // Fixture paths, a process runner and GDAL-tool oracles shared by the test targets.
    .target(name: "TestSupport", dependencies: ["GDAL"], path: "Tests/TestSupport", swiftSettings: warningsAsErrors),
    .testTarget(name: "GDALTests", dependencies: ["GDAL", "TestSupport"], swiftSettings: warningsAsErrors),
    .testTarget(name: "TesseraCoreTests", dependencies: ["TesseraCore", "GDAL", "TestSupport"], swiftSettings: warningsAsErrors),
    .testTarget(
      name: "TesseraCLITests",
      dependencies: ["TesseraCLI", "TesseraCore", "GDAL", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: warningsAsErrors),
    .testTarget(name: "EndToEndTests", dependencies: ["tessera", "TesseraEngine", "GDAL", "TestSupport"], swiftSettings: warningsAsErrors),
  ],
  swiftLanguageModes: [.v5]
)

// `make fuzz` only: a libFuzzer target (its main comes from libFuzzer, so it is built with
// -sanitize=fuzzer -parse-as-library and would not link in an ordinary build).
if ProcessInfo.processInfo.environment["TESSERA_FUZZ"] != nil {
  package.targets.append(.executableTarget(name: "TesseraFuzz", dependencies: ["TesseraCore"]))
  package.products.append(.executable(name: "TesseraFuzz", targets: ["TesseraFuzz"]))
}
