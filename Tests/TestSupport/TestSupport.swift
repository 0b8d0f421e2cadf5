import Foundation
import GDAL

/// The committed fixtures, found from this file's location so tests run from any directory.
public enum Fixture {
  public static let root: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

  public static var rgbByte: String { path("rasterio/RGB.byte.tif") }
  public static var utmsmall: String { path("gdal_autotest/utmsmall.tif") }
  public static var n43: String { path("gdal_autotest/n43.tif") }
  public static var float32: String { path("gdal_autotest/float32.tif") }
  public static var s2Band: String { path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2") }
  public static var t29unuMetadata: String {
    path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE/MTD_MSIL2A.xml")
  }
}

/// What a finished process printed and how it exited.
public struct ProcessResult {
  public let status: Int32
  public let stdout: String
  public let stderr: String
  public let signalled: Bool
}

/// Runs programs for oracles and end-to-end tests.
public enum Run {
  /// Runs `executable` with `arguments`, stdin closed, and waits.
  @discardableResult
  public static func process(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], currentDirectory: String? = nil
  ) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let exited = process.exitSignal()
    try process.run()
    // Read both pipes while the child runs so a chatty child cannot block on a full pipe.
    final class Box: @unchecked Sendable { var data = Data() }
    let outBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let outData = outBox.data
    exited.wait()
    return ProcessResult(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self), signalled: process.terminationReason == .uncaughtSignal)
  }

  /// Finds a program on PATH.
  public static func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
      let candidate = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}

/// The end of a child process, without `waitUntilExit()`: on Linux that polls its run loop in
/// 50 ms steps and so costs up to 50 ms after every child, over thousands of children a minute
/// of a test run.
public struct ExitSignal {
  let semaphore: DispatchSemaphore
  let process: Process

  /// Waits until the process has exited (its status and reason are then set).
  public func wait() {
    semaphore.wait()
    semaphore.signal()
    process.waitUntilExit()
  }

  /// Waits at most `seconds`; whether the process has exited.
  public func wait(seconds: Double) -> Bool {
    guard semaphore.wait(timeout: .now() + seconds) == .success else { return false }
    semaphore.signal()
    process.waitUntilExit()
    return true
  }
}

extension Process {
  /// Call before `run()`: the signal that this process has exited. Takes the termination handler.
  public func exitSignal() -> ExitSignal {
    let semaphore = DispatchSemaphore(value: 0)
    terminationHandler = { _ in semaphore.signal() }
    return ExitSignal(semaphore: semaphore, process: self)
  }
}

/// `body(0)`, `body(1)`, … `body(count - 1)` on `workers` threads at once, results in index
/// order, for tests that run many independent children. Not `concurrentPerform`: that runs at
/// most one iteration per core, and a thread waiting on its child leaves its core idle (the
/// damaged-input corpus ran two at a time when it asked for four).
public func concurrentMap<T>(_ count: Int, workers: Int, _ body: @escaping (Int) -> T) -> [T] {
  let state = ConcurrentMapState(count: count, body: body)
  let queue = DispatchQueue(label: "tessera.tests.concurrentMap", attributes: .concurrent)
  let group = DispatchGroup()
  for _ in 0..<Swift.max(1, workers) { queue.async(group: group) { state.work() } }
  group.wait()
  return state.results.map { $0! }
}

private final class ConcurrentMapState<T>: @unchecked Sendable {
  let lock = NSLock()
  let count: Int
  let body: (Int) -> T
  var next = 0
  var results: [T?]

  init(count: Int, body: @escaping (Int) -> T) {
    self.count = count
    self.body = body
    results = Array(repeating: nil, count: count)
  }

  func work() {
    while true {
      lock.lock()
      let index = next
      next += 1
      lock.unlock()
      guard index < count else { return }
      let result = body(index)
      lock.lock()
      results[index] = result
      lock.unlock()
    }
  }
}

/// GDAL's own tools, the oracles Tessera's results are compared with.
public enum Oracle {
  public struct Missing: Error, CustomStringConvertible {
    public let description: String
  }

  /// `gdalinfo -json` on `path`, parsed. PAM is off so gdalinfo writes nothing either.
  public static func gdalinfo(_ path: String, _ extra: [String] = []) throws -> [String: Any] {
    guard let tool = Run.which("gdalinfo") else { throw Missing(description: "gdalinfo not installed (make deps)") }
    let result = try Run.process(tool, ["-json"] + extra + [path], environment: ["GDAL_PAM_ENABLED": "NO"])
    guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
      throw Missing(description: "gdalinfo failed on \(path): \(result.stderr)")
    }
    return object
  }

  /// Debian's python3 with GDAL's bindings (python3-gdal); not whatever python3 is first on PATH.
  public static var python: String { "/usr/bin/python3" }

  /// Runs a Python snippet with osgeo.gdal and parses its JSON output.
  public static func python(_ script: String, environment: [String: String] = [:]) throws -> Any {
    let result = try Run.process(python, ["-c", script], environment: environment.merging(["GDAL_PAM_ENABLED": "NO"]) { a, _ in a })
    guard result.status == 0 else { throw Missing(description: "python3-gdal failed: \(result.stderr)") }
    return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
  }
}

/// A fresh directory under the system temp folder, removed by `remove()`.
public final class TemporaryDirectory {
  public let path: String
  public init(_ label: String = "tessera-test") throws {
    path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  public func file(_ name: String) -> String { path + "/" + name }
  public func remove() { try? FileManager.default.removeItem(atPath: path) }
  public var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// Resident memory of this process in bytes, from /proc.
public func residentBytes() -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
  let fields = text.split(separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The built `tessera` executable, beside the test bundle in SwiftPM's products folder.
public enum TesseraBinary {
  public static var path: String {
    let products = Bundle.main.bundleURL
    let candidates = [
      products.appendingPathComponent("tessera").path,
      products.deletingLastPathComponent().appendingPathComponent("tessera").path,
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
  }

  /// Runs tessera with `arguments`.
  @discardableResult
  public static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws -> ProcessResult {
    try Run.process(path, arguments, environment: environment, currentDirectory: directory)
  }
}

/// Byte-for-byte snapshot of a folder and its subfolders (paths relative to it), to prove a
/// command left its inputs alone.
public struct FolderSnapshot: Equatable {
  public let files: [String: Data]
  public init(_ folder: String) throws {
    var files: [String: Data] = [:]
    let fm = FileManager.default
    for case let name as String in fm.enumerator(atPath: folder) ?? FileManager.DirectoryEnumerator() {
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
      files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
    }
    self.files = files
  }
}

/// Pixel-by-pixel comparison of two rasters, for oracle tests on small fixtures.
public struct PixelComparison: CustomStringConvertible {
  public var sameGrid: Bool
  public var differing: Int
  public var maxDifference: Double
  public var detail: String

  public var identical: Bool { sameGrid && differing == 0 }
  public var description: String { detail }

  /// NaN equals NaN; everything else must match within `tolerance`.
  public static func of(_ a: String, _ b: String, tolerance: Double = 0) throws -> PixelComparison {
    let x = try Dataset.open(a), y = try Dataset.open(b)
    defer { try? x.close(); try? y.close() }
    guard x.width == y.width, x.height == y.height, x.bandCount == y.bandCount else {
      return PixelComparison(sameGrid: false, differing: -1, maxDifference: .infinity,
                             detail: "shape \(x.width)x\(x.height)x\(x.bandCount) vs \(y.width)x\(y.height)x\(y.bandCount)")
    }
    let gx = x.geoTransform ?? [], gy = y.geoTransform ?? []
    let gridMatches = gx.count == gy.count && zip(gx, gy).allSatisfy { abs($0 - $1) <= 1e-9 * Swift.max(1, abs($1)) }
    var differing = 0
    var worst = 0.0
    for i in 1...x.bandCount {
      let band = of(try values(a, band: i), try values(b, band: i), tolerance: tolerance)
      differing += band.differing
      worst = Swift.max(worst, band.maxDifference)
    }
    return PixelComparison(sameGrid: gridMatches, differing: differing, maxDifference: worst,
                           detail: gridMatches ? "\(differing) pixels differ, max \(worst)" : "geotransform \(gx) vs \(gy)")
  }

  /// The same comparison of two arrays of pixel values (a band, or values a test computed).
  public static func of(_ a: [Double], _ b: [Double], tolerance: Double = 0) -> PixelComparison {
    guard a.count == b.count else {
      return PixelComparison(sameGrid: false, differing: -1, maxDifference: .infinity, detail: "\(a.count) vs \(b.count) pixels")
    }
    var differing = 0
    var worst = 0.0
    for (p, q) in zip(a, b) {
      if p.isNaN && q.isNaN { continue }
      let d = abs(p - q)
      if d > tolerance || d.isNaN { differing += 1 }
      if d.isNaN { worst = .infinity } else { worst = Swift.max(worst, d) }
    }
    return PixelComparison(sameGrid: true, differing: differing, maxDifference: worst, detail: "\(differing) pixels differ, max \(worst)")
  }

  /// Band `band` of `path`, whole, as doubles (fixtures are small).
  public static func values(_ path: String, band: Int = 1) throws -> [Double] {
    let dataset = try Dataset.open(path)
    defer { try? dataset.close() }
    return try dataset.band(band).read(Window(x: 0, y: 0, width: dataset.width, height: dataset.height), as: Double.self)
  }
}

extension Oracle {
  /// `xmin ymin xmax ymax` of `box` (in `from`) transformed to `to` by GDAL's Python bindings,
  /// edges densified with 21 points (OCTTransformBounds): what GDAL 3.11's gdalwarp -te_srs does.
  public static func transformBounds(_ box: [String], from: String, to: String) throws -> [String] {
    let script = """
      import json, sys
      from osgeo import osr
      def srs(text):
          s = osr.SpatialReference(); s.SetFromUserInput(text); s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER); return s
      b = [float(v) for v in sys.argv[3:7]]
      print(json.dumps(osr.CoordinateTransformation(srs(sys.argv[1]), srs(sys.argv[2])).TransformBounds(b[0], b[1], b[2], b[3], 21)))
      """
    let result = try Run.process(python, ["-c", script, from, to] + box)
    guard result.status == 0, let values = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Double] else {
      throw Missing(description: "python3-gdal failed: \(result.stderr)")
    }
    return values.map { String($0) }
  }

  /// Runs one of GDAL's command-line tools (gdalwarp, gdalbuildvrt, gdal_translate, gdal_calc.py).
  public static func tool(_ name: String, _ arguments: [String]) throws {
    guard let path = Run.which(name) else { throw Missing(description: "\(name) not installed (make deps)") }
    let result = try Run.process(path, arguments, environment: ["GDAL_PAM_ENABLED": "NO"])
    guard result.status == 0 else { throw Missing(description: "\(name) \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
  }
}

/// A small seeded generator (SplitMix64), so a corpus or a differential case list is the same
/// on every machine and every run.
public struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A whole number in 0..<bound (bound >= 1).
  public mutating func next(below bound: Int) -> Int {
    Int(next() % UInt64(Swift.max(1, bound)))
  }
}

/// A run of tessera long enough to signal in the middle: a Landsat scene enlarged, reprojected
/// with lanczos on one thread.
public enum LongJob {
  /// The enlarged scene, written into `folder` as big.tif.
  public static func input(in folder: String, percent: Int = 400) throws -> String {
    let big = folder + "/big.tif"
    try Oracle.tool("gdal_translate", ["-q", "-outsize", "\(percent)%", "\(percent)%", "-co", "TILED=YES", Fixture.rgbByte, big])
    return big
  }

  /// The arguments of a reprojection of `input` that takes seconds.
  public static func arguments(_ input: String, to output: String) -> [String] {
    ["reproject", input, output, "--dst-crs", "EPSG:4326", "--resampling", "lanczos", "--threads", "1"]
  }

  /// Starts the reprojection of `input` to `output`, its streams discarded (or stderr to `errors`).
  public static func start(_ input: String, to output: String, errors: Pipe? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TesseraBinary.path)
    process.arguments = arguments(input, to: output)
    process.standardError = errors ?? FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    return process
  }

  /// Waits until Tessera's temporary output exists in `folder`, so a signal lands mid-write.
  @discardableResult
  public static func waitForTemporaryFile(in folder: String, seconds: Double = 30) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    let present = { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasPrefix(".tessera-") } }
    while Date() < deadline, !present() { usleep(10_000) }
    return present()
  }
}
