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
      Case(label: "resample", arguments: ["resample", file, "OUT/o.tif", "--size", "50%", "--resampling", "average"],
           readsEveryPixel: false, output: "o.tif"),
      Case(label: "mosaic", arguments: ["mosaic", file, "-o", "OUT/o.tif"], readsEveryPixel: true, output: "o.tif"),
      // A box far larger than any raster of the corpus, in its own CRS: cut to the raster.
      Case(label: "clip", arguments: ["clip", file, "OUT/o.tif", "--bbox=-1e12,-1e12,1e12,1e12"], readsEveryPixel: true, output: "o.tif"),
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
    try? FileManager.default.removeItem(atPath: scratch)
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
        if only == nil, ["clip", "band-stack", "index", "quicklook", "timelapse"].contains(c.label), index % 3 != 0 { continue }
        jobs.append((c, path, damage))
      }
    }
    for (path, damage) in products where only == nil || only!.hasPrefix("merge-memfile") {
      jobs.append((Case(label: "merge-memfile", arguments: ["merge-memfile", path, "-o", "OUT/o.tif", "-b", "B04,B08"],
                        readsEveryPixel: false, output: "o.tif"), path, damage))
      jobs.append((Case(label: "merge-memfile --reflectance --cog", arguments: ["merge-memfile", path, "-o", "OUT/o.tif", "-b",
                        "B04,B08", "--reflectance", "--cog", "--stage", "disk"], readsEveryPixel: false, output: "o.tif"), path, damage))
    }
    let done = concurrentMap(jobs.count, workers: 4) { i in
      let (c, path, damage) = jobs[i]
      return self.run(c, file: path, damage: damage, verdict: verdicts[path], scratch: self.dir.file("out-\(i)"))
    }
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

  // MARK: - Broken vectors, bindings and manifests

  /// One run of a hostile case with the corpus's promises: an exit code (never a signal) among
  /// `allowed`, never 74, one JSON object, a one-line error, and nothing in `scratch` but the
  /// outputs `kept` of a run that succeeded.
  func hostile(_ label: String, _ args: [String], allowed: Set<Int32>, scratch: String, kept: Set<String> = ["o.tif"]) -> [String] {
    try? FileManager.default.removeItem(atPath: scratch)
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let args = args.map { $0.hasPrefix("OUT/") ? scratch + "/" + $0.dropFirst(4) : $0 } + ["--json"]
    guard let result = try? Run.process(binary, args) else { return ["\(label): could not run"] }
    var problems: [String] = []
    if result.signalled { problems.append("died by signal \(result.status)") }
    if !allowed.contains(result.status) { problems.append("exit \(result.status), expected one of \(allowed.sorted())") }
    if (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) == nil {
      problems.append("stdout is not one JSON object: \(result.stdout.prefix(120))")
    }
    // The error line is the last, or followed by its one hint line: a caret under a column.
    let lines = result.stderr.split(separator: "\n").filter { !$0.allSatisfy { $0 == " " || $0 == "^" } }
    if result.status >= 64, lines.last.map({ !$0.hasPrefix("tessera ") }) ?? true {
      problems.append("no one-line error: \(result.stderr.suffix(160))")
    }
    // A batch that ran keeps what its successful jobs wrote, whether or not others failed.
    let left = ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter { !([0, 1].contains(result.status) && kept.contains($0)) }
    if !left.isEmpty { problems.append("left \(left)") }
    return problems.map { "\(label): \($0)\n  \(result.stderr.split(separator: "\n").last ?? "")" }
  }

  /// Writes `text` to `name` in the test's input folder and returns its path.
  func input(_ name: String, _ text: String) throws -> String {
    let path = dir.file("inputs/" + name)
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  static func featureCollection(_ geometries: [String], crs: String? = nil) -> String {
    let crsMember = crs.map { #""crs": {"type": "name", "properties": {"name": "\#($0)"}}, "# } ?? ""
    let features = geometries.map { #"{"type": "Feature", "properties": {}, "geometry": \#($0)}"# }.joined(separator: ", ")
    return #"{"type": "FeatureCollection", \#(crsMember)"features": [\#(features)]}"#
  }

  /// clip with cutlines and geometries that are broken in every way a vector can be: invalid,
  /// empty, absurd or non-finite coordinates, the wrong CRS, the wrong geometry type, damaged
  /// bytes of GeoJSON, GeoPackage and Shapefile.
  func testBrokenVectorsAreInputFaults() throws {
    var rng = SeededGenerator(seed: DamagedInputCorpusTests.seed ^ 0xC11F)
    let raster = dir.file("inputs/utmsmall.tif")
    try FileManager.default.createDirectory(atPath: dir.file("inputs"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Fixture.utmsmall, toPath: raster)
    // utmsmall: EPSG:26711, x 440720..446720, y 3745320..3751320.
    let inside = "[[441000, 3746000], [446000, 3746000], [446000, 3750000], [441000, 3750000], [441000, 3746000]]"
    func fc(_ g: [String], _ crs: String? = nil) -> String { DamagedInputCorpusTests.featureCollection(g, crs: crs) }
    let nad27 = "urn:ogc:def:crs:EPSG::26711"
    let good = try input("good.geojson", fc([#"{"type": "Polygon", "coordinates": [\#(inside)]}"#], nad27))
    var cutlines: [(String, String, Set<Int32>)] = [
      ("self-crossing", try input("bowtie.geojson", fc([#"{"type": "Polygon", "coordinates": [[[441000, 3746000], [446000, 3750000], [446000, 3746000], [441000, 3750000], [441000, 3746000]]]}"#], nad27)), [65]),
      ("no features", try input("empty.geojson", fc([], nad27)), [65]),
      ("null geometry", try input("null.geojson", fc(["null"], nad27)), [65]),
      ("empty polygon", try input("emptypoly.geojson", fc([#"{"type": "Polygon", "coordinates": []}"#], nad27)), [65]),
      ("two-point ring", try input("ring2.geojson", fc([#"{"type": "Polygon", "coordinates": [[[441000, 3746000], [446000, 3750000]]]}"#], nad27)), [65]),
      ("open ring", try input("open.geojson", fc([#"{"type": "Polygon", "coordinates": [[[441000, 3746000], [446000, 3746000], [446000, 3750000]]]}"#], nad27)), [0, 65]),
      ("absurd coordinates", try input("absurd.geojson", fc([#"{"type": "Polygon", "coordinates": [[[-1e300, -1e300], [1e300, -1e300], [1e300, 1e300], [-1e300, 1e300], [-1e300, -1e300]]]}"#], nad27)), [0, 65]),
      ("far away", try input("far.geojson", fc([#"{"type": "Polygon", "coordinates": [[[1e15, 1e15], [2e15, 1e15], [2e15, 2e15], [1e15, 1e15]]]}"#], nad27)), [65]),
      ("metres labelled degrees", try input("wrongcrs.geojson", fc([#"{"type": "Polygon", "coordinates": [\#(inside)]}"#])), [65]),
      ("unknown CRS", try input("unknowncrs.geojson", fc([#"{"type": "Polygon", "coordinates": [\#(inside)]}"#], "EPSG:999999")), [65]),
      ("points only", try input("points.geojson", fc([#"{"type": "Point", "coordinates": [443000, 3748000]}"#], nad27)), [65]),
      ("lines only", try input("lines.geojson", fc([#"{"type": "LineString", "coordinates": [[441000, 3746000], [446000, 3750000]]}"#], nad27)), [65]),
      ("not JSON", try input("garbage.geojson", "{\"type\": \"FeatureCollection\", \"features\": [ {"), [65]),
      ("empty file", try input("zero.geojson", ""), [65]),
      ("a raster", raster, [65]),
      // A folder of Shapefiles is a vector source to GDAL (good.shp is there).
      ("a folder", dir.file("inputs"), [0, 65, 66]),
      ("missing", dir.file("inputs/none.geojson"), [66]),
    ]
    // Damaged copies of the same polygon as GeoJSON, GeoPackage and Shapefile.
    let gpkg = dir.file("inputs/good.gpkg"), shp = dir.file("inputs/good.shp")
    try Oracle.tool("ogr2ogr", ["-q", "-f", "GPKG", gpkg, good])
    try Oracle.tool("ogr2ogr", ["-q", "-f", "ESRI Shapefile", shp, good])
    for (i, (path, count)) in [(good, 12), (gpkg, 16), (shp, 8), (dir.file("inputs/good.dbf"), 4), (dir.file("inputs/good.shx"), 4)].enumerated() {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      for j in 0..<count {
        let (damaged, how) = DamagedInputCorpusTests.damage(data, &rng)
        let ext = (path as NSString).pathExtension
        let folder = dir.file("inputs/damaged-\(i)-\(j)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if ["shp", "dbf", "shx"].contains(ext) {  // the damaged part beside the intact others
          for part in ["shp", "dbf", "shx", "prj"] where part != ext {
            try FileManager.default.copyItem(atPath: dir.file("inputs/good.\(part)"), toPath: folder + "/v.\(part)")
          }
        }
        try damaged.write(to: URL(fileURLWithPath: folder + "/v.\(ext)"))
        cutlines.append(("\(ext) \(how)", folder + "/v.\(ext == "dbf" || ext == "shx" ? "shp" : ext)", [0, 65]))
      }
    }
    let geometries: [(String, String, Set<Int32>)] = [
      ("NaN vertices", "POLYGON((nan nan, 1 1, 2 0, nan nan))", [64, 65]),
      ("infinite vertices", "POLYGON((-inf 0, inf 0, 0 inf, -inf 0))", [64, 65]),
      ("not WKT", "POLYGON((441000 3746000, 446000", [64]),
      ("empty WKT", "POLYGON EMPTY", [64, 65]),
      ("GeoJSON without coordinates", #"{"type": "Polygon"}"#, [64]),
    ]
    let before = try hashes(of: dir.file("inputs"))
    var problems: [String] = []
    for (label, path, allowed) in cutlines {
      problems += hostile("cutline \(label)", ["clip", raster, "OUT/o.tif", "--cutline", path], allowed: allowed, scratch: dir.file("out"))
    }
    problems += hostile("cutline --layer missing", ["clip", raster, "OUT/o.tif", "--cutline", good, "--layer", "nope"], allowed: [64, 65], scratch: dir.file("out"))
    problems += hostile("cutline --where broken", ["clip", raster, "OUT/o.tif", "--cutline", good, "--where", "nope = = 1"], allowed: [64, 65], scratch: dir.file("out"))
    problems += hostile("cutline --where nothing", ["clip", raster, "OUT/o.tif", "--cutline", good, "--where", "1 = 0"], allowed: [65], scratch: dir.file("out"))
    for (label, geometry, allowed) in geometries {
      problems += hostile("geometry \(label)", ["clip", raster, "OUT/o.tif", "--geometry", geometry], allowed: allowed, scratch: dir.file("out"))
    }
    for box in ["-1e300,-1e300,1e300,1e300", "1e300,1e300,2e300,2e300"] {
      problems += hostile("bbox \(box)", ["clip", raster, "OUT/o.tif", "--bbox=\(box)"], allowed: [0, 65], scratch: dir.file("out"))
      problems += hostile("bbox \(box) in degrees", ["clip", raster, "OUT/o.tif", "--bbox=\(box)", "--bbox-crs", "EPSG:4326"], allowed: [0, 65], scratch: dir.file("out"))
    }
    XCTAssertEqual(try hashes(of: dir.file("inputs")), before, "an input changed")
    print("broken vectors: \(cutlines.count + geometries.count + 7) clip runs, \(problems.count) broke a promise")
    for p in problems { XCTFail(p) }
    // The well-formed one works, so the refusals above are about the damage.
    XCTAssertEqual(hostile("good cutline", ["clip", raster, "OUT/o.tif", "--cutline", good], allowed: [0], scratch: dir.file("out")), [])
  }

  /// index with bindings that point at nothing, at the wrong thing, or at damaged files.
  func testBrokenIndexBindingsAreRefusedClearly() throws {
    try FileManager.default.createDirectory(atPath: dir.file("inputs"), withIntermediateDirectories: true)
    let one = dir.file("inputs/one.tif"), rgb = dir.file("inputs/rgb.tif"), other = dir.file("inputs/other.tif")
    try FileManager.default.copyItem(atPath: Fixture.utmsmall, toPath: one)
    try FileManager.default.copyItem(atPath: Fixture.rgbByte, toPath: rgb)
    try Oracle.tool("gdal_translate", ["-q", "-a_srs", "EPSG:4326", "-a_ullr", "0", "1", "1", "0", Fixture.utmsmall, other])
    let text = try input("notes.txt", "not a raster\n")
    let cut = dir.file("inputs/cut.tif")
    try Data(try Data(contentsOf: URL(fileURLWithPath: one)).prefix(300)).write(to: URL(fileURLWithPath: cut))
    let cases: [(String, [String], Set<Int32>)] = [
      ("a missing file", ["-i", "red=\(dir.file("inputs/none.tif"))", "-i", "nir=\(one)"], [66]),
      ("band 9 of 1", ["-i", "red=\(one):9", "-i", "nir=\(one)"], [64, 65]),
      ("band 0", ["-i", "red=\(one):0", "-i", "nir=\(one)"], [64]),
      ("band -1", ["-i", "red=\(one):-1", "-i", "nir=\(one)"], [64, 66]),
      ("band x", ["-i", "red=\(one):x", "-i", "nir=\(one)"], [64, 66]),
      ("no role", ["-i", "=\(one)", "-i", "nir=\(one)"], [64]),
      ("no file", ["-i", "red=", "-i", "nir=\(one)"], [64]),
      ("a role bound twice", ["-i", "red=\(one)", "-i", "red=\(one)", "-i", "nir=\(one)"], [64]),
      ("an unknown role", ["-i", "colour=\(one)", "-i", "nir=\(one)"], [64]),
      ("a role missing", ["-i", "red=\(one)"], [64]),
      ("-i ROLE=N past the file", ["-i", "red=3,nir=4", rgb], [64, 65]),
      ("-i ROLE=0", ["-i", "red=0,nir=1", rgb], [64]),
      ("-i garbage", ["-i", "red=,nir", rgb], [64]),
      ("a band of INPUT and a file for one role", ["-i", "red=1,nir=2", rgb, "-i", "nir=\(one)"], [64]),
      ("a text file", ["-i", "red=\(text)", "-i", "nir=\(one)"], [65]),
      ("a folder", ["-i", "red=\(dir.file("inputs"))", "-i", "nir=\(one)"], [65, 66]),
      ("a truncated file", ["-i", "red=\(cut)", "-i", "nir=\(one)"], [65]),
      ("two CRSs", ["-i", "red=\(other)", "-i", "nir=\(one)"], [65]),
      ("an unknown sensor", ["--sensor", "landsat42", dir.file("inputs")], [64]),
      ("a sensor's files missing", ["--sensor", "landsat8", dir.file("inputs")], [65, 66]),
      ("a product that is not one", ["--resolution", "10", text], [64, 65]),
    ]
    let before = try hashes(of: dir.file("inputs"))
    var problems: [String] = []
    for (label, args, allowed) in cases {
      problems += hostile("ndvi with \(label)", ["index", "ndvi"] + args + ["-o", "OUT/o.tif"], allowed: allowed, scratch: dir.file("out"))
    }
    for (label, expr, allowed) in [("b2 of one band", "b2 * 1", Set<Int32>([64, 65])), ("syntax", "(b1 +", [64]), ("empty", "", [64]),
                                   ("unknown function", "frob(b1)", [64]), ("deep nesting", String(repeating: "(", count: 5000) + "b1" + String(repeating: ")", count: 5000), [0, 64])] {
      problems += hostile("--expr \(label)", ["index", "--expr", expr, one, "-o", "OUT/o.tif"], allowed: allowed, scratch: dir.file("out"))
    }
    XCTAssertEqual(try hashes(of: dir.file("inputs")), before, "an input changed")
    print("broken bindings: \(cases.count + 5) index runs, \(problems.count) broke a promise")
    for p in problems { XCTFail(p) }
  }

  /// batch with damaged and malformed manifests: exit 65 naming the line before any job runs,
  /// or (when the damage leaves a valid manifest) jobs whose failures are theirs.
  func testBrokenManifestsNeverRunHalfABatch() throws {
    var rng = SeededGenerator(seed: DamagedInputCorpusTests.seed ^ 0xBA7C)
    try FileManager.default.createDirectory(atPath: dir.file("inputs"), withIntermediateDirectories: true)
    let raster = dir.file("inputs/utmsmall.tif")
    try FileManager.default.copyItem(atPath: Fixture.utmsmall, toPath: raster)
    let scratch = dir.file("out")
    let job = { (id: String, out: String) in
      #"{"id": "\#(id)", "command": "resample", "args": ["\#(raster)", "\#(scratch)/\#(out)", "--size", "50%"]}"#
    }
    let good = [job("a", "a.tif"), job("b", "b.tif"), #"{"id": "c", "steps": [{"command": "reproject", "args": ["\#(raster)", "{tmp}/r.tif", "--dst-crs", "EPSG:4326"]}, {"command": "cog-export", "args": ["{tmp}/r.tif", "\#(scratch)/c.tif"]}]}"#].joined(separator: "\n") + "\n"
    var manifests: [(String, String, Set<Int32>)] = [
      ("empty", "", [65]),
      ("comments only", "# nothing\n", [65]),
      ("binary", String(decoding: (0..<200).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self), [65]),
      ("an array", "[1, 2, 3]\n", [65]),
      ("null", "null\n", [65]),
      ("args not strings", #"{"id": "a", "command": "resample", "args": [1, 2]}"# + "\n", [65]),
      ("a missing command", #"{"id": "a", "args": []}"# + "\n", [65]),
      ("an unknown command", #"{"id": "a", "command": "rm", "args": ["-rf", "/"]}"# + "\n", [65]),
      ("itself", #"{"id": "a", "command": "batch", "args": ["x.jsonl"]}"# + "\n", [65]),
      ("a COG step first", #"{"id": "a", "steps": [{"command": "cog-export", "args": ["x", "{tmp}/y"]}, {"command": "info", "args": ["{tmp}/y"]}]}"# + "\n", [65]),
      ("duplicate ids", job("a", "a.tif") + "\n" + job("a", "b.tif") + "\n", [65]),
      ("a huge line", #"{"id": "a", "command": "info", "args": [""# + String(repeating: "x", count: 4_000_000) + #""]}"# + "\n", [0, 1, 65]),
      ("CRLF endings", good.replacingOccurrences(of: "\n", with: "\r\n"), [0, 65]),
    ]
    let goodData = Data(good.utf8)
    for _ in 0..<24 {
      let (damaged, how) = DamagedInputCorpusTests.damage(goodData, &rng)
      manifests.append(("damaged: \(how)", String(decoding: damaged, as: UTF8.self), [0, 1, 65]))
    }
    let before = try hashes(of: dir.file("inputs"))
    var problems: [String] = []
    for (i, (label, text, allowed)) in manifests.enumerated() {
      let manifest = try input("m\(i).jsonl", text)
      let found = hostile("manifest \(label)", ["batch", manifest, "--jobs", "2"], allowed: allowed, scratch: scratch, kept: ["a.tif", "b.tif", "c.tif"])
      problems += found
      try? FileManager.default.removeItem(atPath: manifest)
    }
    problems += hostile("a missing manifest", ["batch", dir.file("inputs/none.jsonl")], allowed: [66], scratch: scratch)
    problems += hostile("a folder as manifest", ["batch", dir.file("inputs")], allowed: [65, 66], scratch: scratch)
    XCTAssertEqual(try hashes(of: dir.file("inputs")), before, "an input changed")
    print("broken manifests: \(manifests.count + 2) batch runs, \(problems.count) broke a promise")
    for p in problems { XCTFail(p) }
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
