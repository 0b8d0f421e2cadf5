import Foundation
import XCTest

/// A test case with a fresh temporary directory for each test, removed after it.
open class TemporaryDirectoryTestCase: XCTestCase {
  public var dir: TemporaryDirectory!
  /// The directory's name prefix, for finding a kept one.
  open var directoryLabel: String { "tessera-test" }

  open override func setUpWithError() throws {
    try super.setUpWithError()
    dir = try TemporaryDirectory(directoryLabel)
  }

  /// A small tmpfs (`options` as mount takes them: "size=64k", "size=10m,nr_inodes=3") at
  /// `name` in the test's folder, for full-disk tests; unmounted when the test ends. Skips the
  /// test where mounting is not allowed (not root).
  public func mountSmallDisk(_ options: String, name: String = "fs") throws -> String {
    let mount = dir.file(name)
    try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    guard (try? Run.process("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", mount]))?.status == 0 else {
      throw XCTSkip("cannot mount a tmpfs here (needs root)")
    }
    addTeardownBlock { _ = try? Run.process("/bin/umount", ["-l", mount]) }
    return mount
  }

  open override func tearDown() {
    dir.remove()
    super.tearDown()
  }
}

/// Synthetic Sentinel-2 products from Tools/s2products.py (real JP2 or GeoTIFF band files,
/// real metadata), for tests that need products of a chosen size, layout or damage.
public enum SyntheticProducts {
  public static var script: String {
    Fixture.root.deletingLastPathComponent().appendingPathComponent("Tools/s2products.py").path
  }

  /// Writes products into `folder` (`arguments` as the script takes them) and returns their paths.
  public static func make(in folder: String, _ arguments: [String]) throws -> [String] {
    let made = try Run.process(Oracle.python, [script, folder] + arguments)
    guard made.status == 0 else { throw Oracle.Missing(description: "s2products.py failed: \(made.stderr)") }
    return made.stdout.split(separator: "\n").map(String.init)
  }
}

/// A run of the built tessera interrupted by a signal once it is under way.
public enum SignalTrial {
  public struct Outcome {
    public let status: Int32
    /// `.exit` when Tessera exited on its own account; `.uncaughtSignal` when the signal killed it.
    public let reason: Process.TerminationReason
    /// Whether `ready` held before the signal was sent (else it was sent at the timeout).
    public let wasReady: Bool
  }

  /// Starts tessera with `arguments` (streams discarded), waits until `ready()` holds (polled
  /// every 5 ms, at most `timeout` seconds), sends `signal` and waits for the exit.
  public static func run(_ arguments: [String], signal: Int32, timeout: Double = 30, when ready: () -> Bool) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TesseraBinary.path)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    let exited = process.exitSignal()
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline, !ready() { usleep(5_000) }
    let wasReady = ready()
    kill(process.processIdentifier, signal)
    exited.wait()
    return Outcome(status: process.terminationStatus, reason: process.terminationReason, wasReady: wasReady)
  }

  /// Whether a Tessera temporary file (its name starts `.tessera-`) matching `also` is in `folder`.
  public static func temporaryFile(in folder: String, where also: (String) -> Bool = { _ in true }) -> Bool {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasPrefix(".tessera-") && also($0) }
  }
}
