import Foundation
import TestSupport
import XCTest

/// A seeded corpus of damaged files made from the fixtures (truncated, bytes flipped, ranges
/// zeroed or overwritten, emptied), run through every command that reads rasters, as a hostile
/// user would. Whatever the damage, each run must end by an exit code (never a signal), with
/// 65 or 66 for a bad input and never 74 (no output failed here), one JSON object with --json,
/// no file left behind, and the inputs byte-identical. Where GDAL itself reports a read error on
/// the file, a command that reads every pixel must not succeed: zeros must never stand in for
/// data that could not be read.
///
/// `TESSERA_CORPUS_BINARY` runs the corpus against another build (to compare before and after).
final class DamagedInputCorpusTests: XCTestCase {
  var dir: TemporaryDirectory!
  override func setUpWithError() throws { dir = try TemporaryDirectory("tessera-corpus") }
  // TESSERA_CORPUS_KEEP=1 keeps the corpus (its folder is printed) to reproduce a failure.
  override func tearDown() {
    if ProcessInfo.processInfo.environment["TESSERA_CORPUS_KEEP"] == nil { dir.remove() } else { print("corpus kept in \(dir.path)") }
  }

  static let seed: UInt64 = 0x7E55_E2A0_C0DE_2026
  static let variantsPerSource = 28

  var binary: String { ProcessInfo.processInfo.environment["TESSERA_CORPUS_BINARY"] ?? TesseraBinary.path }

  // MARK: - The corpus

  /// Pristine files the damage starts from: the fixtures' layouts (striped, tiled, COG with
  /// overviews, JPEG 2000, VRT) and types, plus two made here with many small tiles, so damage
  /// lands in tile data as often as in headers.
  func pristineSources() throws -> [String] {
    let source = dir.file("pristine")
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    var files: [String] = []
    for fixture in ["gdal_autotest/byte.tif", "gdal_autotest/float32.tif", "gdal_autotest/int16.tif", "gdal_autotest/uint16.tif",
                    "gdal_autotest/nodata_byte.tif", "gdal_autotest/utmsmall.tif", "gdal_autotest/n43.tif",
                    "eo-box/s2l1c/T33UUU_20170216T102101_B05.jp2"] {
      let copy = source + "/" + (fixture as NSString).lastPathComponent
      try FileManager.default.copyItem(atPath: Fixture.path(fixture), toPath: copy)
      files.append(copy)
    }
    let tiled = source + "/tiled.tif"
    try Oracle.tool("gdal_translate", ["-q", "-co", "TILED=YES", "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=16",
                                       "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=2", Fixture.utmsmall, tiled])
    let cog = source + "/cog.tif"
    try Oracle.tool("gdal_translate", ["-q", "-of", "COG", "-co", "BLOCKSIZE=64", "-co", "COMPRESS=LZW",
                                       "-co", "OVERVIEW_COUNT=2", "-outsize", "300%", "300%", Fixture.utmsmall, cog])
    // Written here, naming its source relative to itself, so its bytes (and their damage) are the
    // same wherever the tests run.
    let vrt = source + "/byte.vrt"
    try Oracle.tool("gdal_translate", ["-q", "-of", "VRT", source + "/byte.tif", vrt])
    files += [tiled, cog, vrt]
    return files
  }

  /// One damaged copy of `data`, by a kind of damage chosen from the generator.
  static func damage(_ data: Data, _ rng: inout SeededGenerator) -> (Data, String) {
    var bytes = [UInt8](data)
    let n = bytes.count
    switch rng.next(below: 7) {
    case 0:
      let cut = rng.next(below: n)
      return (Data(bytes.prefix(cut)), "truncated at \(cut)")
    case 1:
      let count = 1 + rng.next(below: 8)
      for _ in 0..<count { bytes[rng.next(below: n)] ^= UInt8(1 << rng.next(below: 8)) }
      return (Data(bytes), "\(count) bits flipped")
    case 2:
      let start = rng.next(below: n), length = 1 + rng.next(below: Swift.max(1, n / 8))
      for i in start..<Swift.min(n, start + length) { bytes[i] = 0 }
      return (Data(bytes), "zeroed \(start)+\(length)")
    case 3:
      let start = rng.next(below: n), length = 1 + rng.next(below: 64)
      for i in start..<Swift.min(n, start + length) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
      return (Data(bytes), "random bytes \(start)+\(length)")
    case 4:
      // The header region, where one wrong byte changes the meaning of everything after it.
      let count = 1 + rng.next(below: 4)
      for _ in 0..<count { bytes[rng.next(below: Swift.min(n, 512))] = UInt8(truncatingIfNeeded: rng.next()) }
      return (Data(bytes), "\(count) header bytes replaced")
    case 5:
      // Cut inside the structure (header, IFDs, tag arrays): GDAL may open what is left and find
      // no block where the directory says one is.
      let cut = Swift.min(n, 256 + rng.next(below: 2048))
      return (Data(bytes.prefix(cut)), "cut inside the structure at \(cut)")
    default:
      let cut = rng.next(below: Swift.min(n, 64))
      return (Data(bytes.prefix(cut)), "cut to \(cut) bytes")
    }
  }

  /// What GDAL itself makes of each file, read block row by block row on one thread:
  /// "open" (cannot be opened), "read" (a read reported an error) or "ok".
  func gdalVerdicts(_ files: [String]) throws -> [String: String] {
    let script = """
      import json, sys
      from osgeo import gdal
      gdal.PushErrorHandler('CPLQuietErrorHandler')
      out = {}
      for path in json.load(sys.stdin):
          gdal.ErrorReset()
          ds = gdal.Open(path)
          if ds is None or ds.RasterCount == 0:
              out[path] = 'open'; continue
          verdict = 'ok'
          for b in range(1, ds.RasterCount + 1):
              band = ds.GetRasterBand(b)
              rows = max(1, band.GetBlockSize()[1])
              for y in range(0, ds.RasterYSize, rows):
                  gdal.ErrorReset()
                  data = band.ReadRaster(0, y, ds.RasterXSize, min(rows, ds.RasterYSize - y))
                  if data is None or gdal.GetLastErrorType() >= gdal.CE_Failure:
                      verdict = 'read'; break
              if verdict != 'ok': break
          out[path] = verdict
      print(json.dumps(out))
      """
    let input = dir.file("files.json")
    try JSONSerialization.data(withJSONObject: files).write(to: URL(fileURLWithPath: input))
    let result = try Run.process("/bin/sh", ["-c", "\(Oracle.python) -c \"$SCRIPT\" < \"$INPUT\""],
                                 environment: ["SCRIPT": script, "INPUT": input, "GDAL_NUM_THREADS": "1", "GDAL_PAM_ENABLED": "NO"])
    XCTAssertEqual(result.status, 0, result.stderr)
    return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]) ?? [:]
  }

  // MARK: - Running

  struct Case {
    let label: String
    let arguments: [String]
    /// Reads every pixel at full resolution: must fail where GDAL reports a read error.
    let readsEveryPixel: Bool
    /// The output it writes, relative to its scratch folder.
    let output: String?
  }

  func cases(for file: String) -> [Case] {
    [
      Case(label: "info --stats", arguments: ["info", file, "--stats"], readsEveryPixel: true, output: nil),
      Case(label: "validate-cog", arguments: ["validate-cog", file], readsEveryPixel: false, output: nil),
      Case(label: "cog-export", arguments: ["cog-export", file, "OUT/o.tif"], readsEveryPixel: true, output: "o.tif"),
      Case(label: "reproject", arguments: ["reproject", file, "OUT/o.tif", "--dst-crs", "EPSG:4326"], readsEveryPixel: false, output: "o.tif"),
      Case(label: "resample", arguments: ["resample", file, "OUT/o.tif", "--scale", "0.5", "--resampling", "average"],
           readsEveryPixel: false, output: "o.tif"),
      Case(label: "mosaic", arguments: ["mosaic", file, "-o", "OUT/o.tif"], readsEveryPixel: true, output: "o.tif"),
      Case(label: "band-stack", arguments: ["band-stack", file, "-o", "OUT/o.tif"], readsEveryPixel: true, output: "o.tif"),
      Case(label: "index", arguments: ["index", "--expr", "b1 * 2", file, "-o", "OUT/o.tif"], readsEveryPixel: true, output: "o.tif"),
      Case(label: "quicklook", arguments: ["quicklook", file, "OUT/o.png", "--band", "1"], readsEveryPixel: false, output: "o.png"),
      Case(label: "timelapse", arguments: ["timelapse", file, "-o", "OUT/o.gif", "--band", "1", "--order", "given"], readsEveryPixel: false, output: "o.gif"),
    ]
  }

  struct Outcome {
    let label: String
    let file: String
    let damage: String
    let status: Int32
    let problems: [String]
  }

  func run(_ c: Case, file: String, damage: String, verdict: String?, scratch: String) -> Outcome {
    try? FileManager.default.removeItem(atPath: scratch)
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let args = c.arguments.map { $0.hasPrefix("OUT/") ? scratch + "/" + $0.dropFirst(4) : $0 } + ["--json", "--threads", "2"]
    var problems: [String] = []
    guard let result = try? Run.process(binary, args) else {
      return Outcome(label: c.label, file: file, damage: damage, status: -1, problems: ["could not run"])
    }
    if result.signalled { problems.append("died by signal \(result.status)") }
    if ![0, 1, 65, 66].contains(result.status) { problems.append("exit \(result.status)") }
    if result.status == 1 && c.label != "validate-cog" { problems.append("exit 1 outside a validator") }
    if result.status == 0, c.readsEveryPixel, verdict == "read" || verdict == "open" {
      problems.append("exit 0 where GDAL reports a \(verdict == "open" ? "failure to open" : "read error")")
    }
    let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    if json == nil { problems.append("stdout is not one JSON object: \(result.stdout.prefix(120))") }
    if result.status >= 64, result.stderr.split(separator: "\n").last.map({ !$0.hasPrefix("tessera ") }) ?? true {
      problems.append("no one-line error: \(result.stderr.suffix(160))")
    }
    let left = ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter { name in
      !(result.status == 0 && name == c.output)
    }
    if !left.isEmpty { problems.append("left \(left)") }
    return Outcome(label: c.label, file: file, damage: damage, status: result.status, problems: problems)
  }

  // MARK: - The test

  func testDamagedFilesNeverCrashNeverPassForDataAndLeaveNothing() throws {
    var rng = SeededGenerator(seed: DamagedInputCorpusTests.seed)
    let damagedDir = dir.file("damaged")
    try FileManager.default.createDirectory(atPath: damagedDir, withIntermediateDirectories: true)
    var corpus: [(path: String, damage: String)] = []
    for source in try pristineSources() {
      let data = try Data(contentsOf: URL(fileURLWithPath: source))
      let name = (source as NSString).lastPathComponent
      for i in 0..<DamagedInputCorpusTests.variantsPerSource {
        let (damaged, how) = DamagedInputCorpusTests.damage(data, &rng)
        let path = damagedDir + "/\(i)-" + name
        try damaged.write(to: URL(fileURLWithPath: path))
        corpus.append((path, how))
      }
    }
    // A VRT names its source relative to itself: each damaged VRT gets the source beside it.
    try FileManager.default.copyItem(atPath: Fixture.path("gdal_autotest/byte.tif"), toPath: damagedDir + "/byte.tif")
    let products = try damagedProducts(&rng)
    XCTAssertGreaterThanOrEqual(corpus.count + products.count, 300)

    let verdicts = try gdalVerdicts(corpus.map(\.path))
    let before = try hashes(of: dir.path)

    var jobs: [(Case, String, String)] = []
    // TESSERA_CORPUS_ONLY=LABEL runs one command's cases (to reproduce a finding quickly).
    let only = ProcessInfo.processInfo.environment["TESSERA_CORPUS_ONLY"]
    for (index, (path, damage)) in corpus.enumerated() {
      for c in cases(for: path) where only == nil || c.label == only {
        // The commands added later (band-stack, index, quicklook, timelapse) read the same way
        // as the first ones: a third of the corpus each keeps the run's time in check.
        if only == nil, ["band-stack", "index", "quicklook", "timelapse"].contains(c.label), index % 3 != 0 { continue }
        jobs.append((c, path, damage))
      }
    }
    for (path, damage) in products where only == nil || only!.hasPrefix("merge-memfile") {
      jobs.append((Case(label: "merge-memfile", arguments: ["merge-memfile", path, "-o", "OUT/o.tif", "--bands", "B04,B08"],
                        readsEveryPixel: false, output: "o.tif"), path, damage))
      jobs.append((Case(label: "merge-memfile --reflectance --cog", arguments: ["merge-memfile", path, "-o", "OUT/o.tif", "--bands",
                        "B04,B08", "--reflectance", "--cog", "--stage", "disk"], readsEveryPixel: false, output: "o.tif"), path, damage))
    }
    var outcomes = [Outcome?](repeating: nil, count: jobs.count)
    let lock = NSLock()
    var next = 0
    let workers = 4
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      let scratch = dir.file("out-\(worker)")
      while true {
        lock.lock(); let i = next; next += 1; lock.unlock()
        guard i < jobs.count else { return }
        let (c, path, damage) = jobs[i]
        let outcome = run(c, file: path, damage: damage, verdict: verdicts[path], scratch: scratch)
        lock.lock(); outcomes[i] = outcome; lock.unlock()
      }
    }
    let done = outcomes.compactMap { $0 }
    XCTAssertEqual(try hashes(of: dir.path).filter { !$0.key.contains("/out-") }, before.filter { !$0.key.contains("/out-") },
                   "an input changed")

    var histogram: [Int32: Int] = [:]
    for o in done { histogram[o.status, default: 0] += 1 }
    let summary = histogram.keys.sorted().map { "\($0): \(histogram[$0]!)" }.joined(separator: ", ")
    let readErrors = verdicts.values.filter { $0 != "ok" }.count
    print("damaged-input corpus: \(corpus.count) files and \(products.count) products, \(done.count) runs; "
          + "GDAL reports a read error on \(readErrors) files; exit codes \(summary)")
    let failures = done.filter { !$0.problems.isEmpty }
    let kinds: [(String, String)] = [("signal", "died by signal"), ("exit 0 on unreadable data", "exit 0 where"),
                                     ("undocumented exit", "exit "), ("no JSON", "stdout is not"), ("files left", "left ["),
                                     ("no one-line error", "no one-line")]
    let tally = kinds.map { kind in "\(kind.0): \(failures.filter { $0.problems.contains { $0.hasPrefix(kind.1) } }.count)" }
    print("damaged-input corpus: \(failures.count) runs broke a promise (\(tally.joined(separator: ", ")))")
    for f in failures.prefix(25) {
      XCTFail("\(f.label) on \(f.file) (\(f.damage)): \(f.problems.joined(separator: "; "))\n  reproduce: \(binary) \(f.label.split(separator: " ")[0]) \(f.file) …")
    }
    if failures.count > 25 { XCTFail("\(failures.count - 25) more runs failed") }
  }

  /// Sentinel-2 products with one band file or the metadata damaged.
  func damagedProducts(_ rng: inout SeededGenerator) throws -> [(String, String)] {
    guard let pristine = try SyntheticProducts.make(in: dir.file("s2"), ["--size", "240", "--bands", "B04,B08"]).first else { return [] }
    let fm = FileManager.default
    let files = (fm.enumerator(atPath: pristine)?.allObjects as? [String] ?? [])
      .filter { $0.hasSuffix("B04_10m.jp2") || $0.hasSuffix("B08_10m.jp2") || $0 == "MTD_MSIL2A.xml" }.sorted()
    var products: [(String, String)] = []
    for i in 0..<40 {
      let copy = dir.file("s2-damaged/\(i)/" + (pristine as NSString).lastPathComponent)
      try fm.createDirectory(atPath: (copy as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try fm.copyItem(atPath: pristine, toPath: copy)
      let victim = files[rng.next(below: files.count)]
      let data = try Data(contentsOf: URL(fileURLWithPath: copy + "/" + victim))
      let (damaged, how) = DamagedInputCorpusTests.damage(data, &rng)
      try damaged.write(to: URL(fileURLWithPath: copy + "/" + victim))
      products.append((copy, "\((victim as NSString).lastPathComponent) \(how)"))
    }
    return products
  }

  func hashes(of folder: String) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let fm = FileManager.default
    for case let name as String in fm.enumerator(atPath: folder) ?? FileManager.DirectoryEnumerator() {
      let path = folder + "/" + name
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
      result[path] = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
    }
    return result
  }
}
