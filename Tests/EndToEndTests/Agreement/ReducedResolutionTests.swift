import Foundation
import TestSupport
import XCTest

/// The seeded differential test over inputs that carry reduced resolutions: Sentinel-2 JPEG 2000
/// bands (resolution levels), a COG with internal overviews and a GeoTIFF with an external .ovr.
/// gdalwarp reads a downsampling job from the overview nearest the target; every Tessera command
/// that promises gdalwarp's pixels must read the same level. Each case runs twice (determinism)
/// and a failure prints the two commands that reproduce it.
final class ReducedResolutionTests: TemporaryDirectoryTestCase {
  override var directoryLabel: String { "tessera-reduced-resolutions" }

  static let seed: UInt64 = 0x0E5_2026_1203

  static let granule = "sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE/GRANULE/L2A_T29UNU_A038058_20221005T115407/IMG_DATA/R60m/"
  let b8a = Fixture.path(granule + "T29UNU_20221005T115411_B8A_60m.jp2")
  let scl = Fixture.path(granule + "T29UNU_20221005T115411_SCL_60m.jp2")

  /// Runs a GDAL tool that makes a test input; its failure fails the test.
  func make(_ tool: String, _ arguments: [String]) throws {
    let result = try Run.process(Run.which(tool) ?? tool, ["-q"] + arguments, environment: ["GDAL_PAM_ENABLED": "NO"])
    XCTAssertEqual(result.status, 0, "\(tool) \(arguments): \(result.stderr)")
  }

  /// The COG, the GeoTIFF with an .ovr, and mosaic tiles, made from the JPEG 2000 band.
  func inputs() throws -> (cog: String, ovr: String, tiles: [String], utm30: String) {
    let cog = dir.file("b8a-cog.tif"), ovr = dir.file("b8a-ovr.tif"), utm30 = dir.file("b8a-utm30.tif")
    try make("gdal_translate", ["-of", "COG", "-co", "BLOCKSIZE=256", "-co", "OVERVIEW_RESAMPLING=AVERAGE",
                                "-srcwin", "0", "0", "1200", "1200", b8a, cog])
    try make("gdal_translate", ["-co", "TILED=YES", "-srcwin", "500", "400", "1200", "1200", b8a, ovr])
    try make("gdaladdo", ["-ro", "-r", "average", ovr, "2", "4", "8"])
    XCTAssertTrue(FileManager.default.fileExists(atPath: ovr + ".ovr"))
    // The band in another CRS, with overviews of its own, for mosaics that cross CRSs.
    try make("gdalwarp", ["-t_srs", "EPSG:32630", "-tr", "60", "60", "-te", "175000", "5830000", "235000", "5885000",
                          "-co", "TILED=YES", b8a, utm30])
    try make("gdaladdo", ["-r", "average", utm30, "2", "4"])
    return (cog, ovr, [cog, ovr], utm30)
  }

  func cases() throws -> [DifferentialTests.Case] {
    let made = try inputs()
    var rng = SeededGenerator(seed: ReducedResolutionTests.seed)
    var cases: [DifferentialTests.Case] = []
    let sources = [b8a, scl, made.cog, made.ovr]
    func add(_ name: String, _ ours: [String], _ tool: String, _ theirs: [String], output: String, reference: String) {
      cases.append(.init(tessera: ours + ["-q", "--threads", rng.next(below: 2) == 0 ? "1" : "2"],
                         oracle: (tool, ["-q", "-wo", "NUM_THREADS=1"] + theirs), output: output, reference: reference))
    }
    // resample: the jobs first (average by 5 and 7 from JPEG 2000), then seeded ones.
    var resamples: [(String, String, Int)] = [(b8a, "average", 5), (b8a, "average", 7), (scl, "average", 7),
                                              (made.cog, "average", 3), (made.ovr, "average", 5)]
    let methods = ["average", "average", "nearest", "bilinear", "mode", "cubic", "max"]
    for _ in 0..<9 {
      resamples.append((sources[rng.next(below: sources.count)], methods[rng.next(below: methods.count)], [2, 3, 5, 7, 9][rng.next(below: 5)]))
    }
    for (i, job) in resamples.enumerated() {
      let out = dir.file("s\(i).tif"), ref = dir.file("s\(i)-gdal.tif"), res = "\(60 * job.2)"
      add("resample", ["resample", job.0, out, "--resampling", job.1, "--resolution", res],
          "gdalwarp", ["-r", job.1 == "nearest" ? "near" : job.1, "-tr", res, res, job.0, ref], output: out, reference: ref)
    }
    // reproject to a coarser grid, by pixel size or by size
    let crss: [(String, Double)] = [("EPSG:4326", 0.001), ("EPSG:3857", 100), ("EPSG:32630", 60)]
    for i in 0..<6 {
      let source = sources[rng.next(below: sources.count)], crs = crss[rng.next(below: crss.count)]
      let method = ["average", "bilinear", "nearest", "mode"][rng.next(below: 4)]
      let out = dir.file("r\(i).tif"), ref = dir.file("r\(i)-gdal.tif")
      var ours = ["reproject", source, out, "--dst-crs", crs.0, "--resampling", method]
      var theirs = ["-t_srs", crs.0, "-r", method == "nearest" ? "near" : method]
      if rng.next(below: 2) == 0 {
        let res = "\(crs.1 * Double(3 + rng.next(below: 5)))"
        ours += ["--resolution", res]
        theirs += ["-tr", res, res]
      } else {
        let w = 40 + rng.next(below: 200), h = 40 + rng.next(below: 200)
        ours += ["--size", "\(w),\(h)"]
        theirs += ["-ts", "\(w)", "\(h)"]
      }
      add("reproject", ours, "gdalwarp", theirs + [source, ref], output: out, reference: ref)
    }
    // mosaic: tiles with overviews resampled, and JPEG 2000 with a GeoTIFF in another CRS
    for i in 0..<4 {
      let method = ["average", "bilinear", "nearest", "mode"][rng.next(below: 4)], gdalMethod = method == "nearest" ? "near" : method
      let res = "\(60 * [3, 5, 6][rng.next(below: 3)])"
      let out = dir.file("m\(i).tif"), ref = dir.file("m\(i)-gdal.tif")
      if i % 2 == 0 {
        let tiles = rng.next(below: 2) == 0 ? made.tiles : made.tiles.reversed()
        add("mosaic", ["mosaic"] + tiles + ["-o", out, "--resolution", res, "--resampling", method],
            "gdalwarp", ["-r", gdalMethod, "-tr", res, res] + tiles + [ref], output: out, reference: ref)
      } else {
        add("mosaic", ["mosaic", b8a, made.utm30, "-o", out, "--dst-crs", "EPSG:32629", "--resolution", res, "--resampling", method],
            "gdalwarp", ["-t_srs", "EPSG:32629", "-r", gdalMethod, "-tr", res, res, b8a, made.utm30, ref], output: out, reference: ref)
      }
    }
    return cases
  }

  func testTesseraReadsTheLevelGDALReads() throws {
    let all = try cases()
    var failures: [String] = []
    for c in all {
      let oracle = try Run.process(Run.which(c.oracle.tool) ?? c.oracle.tool, c.oracle.arguments, environment: ["GDAL_PAM_ENABLED": "NO"])
      XCTAssertEqual(oracle.status, 0, "\(c.reproduction)\n\(oracle.stderr)")
      let first = try TesseraBinary.run(c.tessera)
      guard first.status == 0 else {
        failures.append("tessera exit \(first.status) (\(first.stderr)):\n  \(c.reproduction)")
        continue
      }
      let firstBytes = try Data(contentsOf: URL(fileURLWithPath: c.output))
      try FileManager.default.removeItem(atPath: c.output)
      let second = try TesseraBinary.run(c.tessera)
      XCTAssertEqual(second.status, 0, second.stderr)
      let comparison = try PixelComparison.of(c.output, c.reference)
      if try Data(contentsOf: URL(fileURLWithPath: c.output)) != firstBytes {
        failures.append("not deterministic (two runs wrote different files):\n  \(c.reproduction)")
      } else if !comparison.identical {
        failures.append("differs from GDAL: \(comparison):\n  \(c.reproduction)")
      }
      try? FileManager.default.removeItem(atPath: c.output)
      try? FileManager.default.removeItem(atPath: c.reference)
    }
    print("reduced resolutions: \(all.count) cases, \(all.count - failures.count) identical to GDAL's tools")
    for f in failures { XCTFail(f) }
  }

  /// The size probe of a mosaic across CRSs is a warped VRT of every input, which GDAL says
  /// holds only the first; that is the probe's business, not the user's: no such line, and the
  /// output still holds every input as gdalwarp's does.
  func testMosaicAcrossCRSsPrintsNoWarningOfItsProbes() throws {
    let made = try inputs()
    let out = dir.file("m.tif"), ref = dir.file("m-gdal.tif")
    let run = try TesseraBinary.run(["mosaic", b8a, made.utm30, "-o", out, "--dst-crs", "EPSG:32629", "--resolution", "300", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertFalse(run.stderr.contains("first source dataset"), run.stderr)
    XCTAssertFalse(run.stdout.contains("first source dataset"), run.stdout)
    let oracle = try Run.process(Run.which("gdalwarp") ?? "gdalwarp", ["-q", "-t_srs", "EPSG:32629", "-tr", "300", "300", b8a, made.utm30, ref])
    XCTAssertEqual(oracle.status, 0, oracle.stderr)
    let comparison = try PixelComparison.of(out, ref)
    XCTAssertTrue(comparison.identical, comparison.detail)
    // Both inputs reached the output: pixels east of the JPEG 2000's footprint come from the other.
    let warp = try Run.process(Run.which("gdalwarp") ?? "gdalwarp", ["-q", "-t_srs", "EPSG:32629", "-tr", "300", "300", b8a, dir.file("one.tif")])
    XCTAssertEqual(warp.status, 0, warp.stderr)
    XCTAssertFalse(try PixelComparison.of(out, dir.file("one.tif")).identical, "the mosaic holds only the first input")
  }

  /// A preview reads the level GDAL's RasterIO picks for its size, as gdal_translate -outsize
  /// does: from JPEG 2000 levels and COG overviews alike, with the default nearest sampling.
  func testQuicklookReadsTheLevelGDALTranslateReads() throws {
    let jp2 = dir.file("b8a-byte.jp2"), cog = dir.file("b8a-byte-cog.tif")
    try make("gdal_translate", ["-ot", "Byte", "-scale", "0", "6000", "0", "255", "-of", "JP2OpenJPEG", "-co", "REVERSIBLE=YES",
                                "-co", "QUALITY=100", b8a, jp2])
    try make("gdal_translate", ["-of", "COG", "-co", "BLOCKSIZE=256", jp2, cog])
    for input in [jp2, cog] {
      let out = dir.file("q.png"), ref = dir.file("q-gdal.png")
      let run = try TesseraBinary.run(["quicklook", input, out, "--stretch", "none", "--width", "500", "--overwrite", "-q"])
      XCTAssertEqual(run.status, 0, run.stderr)
      // A PNG, so neither side carries georeferencing.
      try make("gdal_translate", ["-of", "PNG", "-outsize", "500", "0", input, ref])
      let gray = dir.file("q-gray.tif")
      try make("gdal_translate", ["-b", "1", out, gray])
      let comparison = try PixelComparison.of(gray, ref)
      XCTAssertTrue(comparison.identical, "\(input): \(comparison)")
      for f in [out, ref, gray] { try? FileManager.default.removeItem(atPath: f) }
    }
  }
}
