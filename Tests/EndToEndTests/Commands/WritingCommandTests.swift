import Foundation
import TestSupport
import XCTest

/// reproject, resample and mosaic as a script runs them: exit codes, JSON, no partial output,
/// untouched inputs, and cleanup on signals.
final class WritingCommandTests: TemporaryDirectoryTestCase {

  func copyFixture(_ path: String) throws -> String {
    let copy = dir.file((path as NSString).lastPathComponent)
    try FileManager.default.copyItem(atPath: path, toPath: copy)
    return copy
  }

  func testReprojectReportsJSONAndWritesOnlyTheOutput() throws {
    let input = try copyFixture(Fixture.utmsmall)
    let before = try FolderSnapshot(dir.path)
    let result = try TesseraBinary.run(["reproject", input, dir.file("out.tif"), "--dst-crs", "wgs84", "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    XCTAssertEqual(report?["command"] as? String, "reproject")
    XCTAssertEqual(report?["status"] as? String, "ok")
    let outputs = report?["outputs"] as? [[String: Any]]
    XCTAssertEqual((outputs?.first?["crs"] as? [String: Any])?["epsg"] as? Int, 4326)
    XCTAssertNotNil(report?["elapsed_s"] as? Double)
    XCTAssertEqual(dir.contents, ["out.tif", "utmsmall.tif"])
    XCTAssertEqual(try FolderSnapshot(dir.path).files["utmsmall.tif"], before.files["utmsmall.tif"])
  }

  func testExistingOutputNeedsOverwrite() throws {
    try Data("keep me".utf8).write(to: URL(fileURLWithPath: dir.file("out.tif")))
    let refused = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file("out.tif"), "--size", "50%"])
    XCTAssertEqual(refused.status, 73)
    XCTAssertTrue(refused.stderr.contains("--overwrite"), refused.stderr)
    XCTAssertEqual(try String(contentsOfFile: dir.file("out.tif"), encoding: .utf8), "keep me")
    let replaced = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file("out.tif"), "--size", "50%", "--overwrite"])
    XCTAssertEqual(replaced.status, 0, replaced.stderr)
    XCTAssertEqual(dir.contents, ["out.tif"])
  }

  func testOutputThatIsAnInputIsRefused() throws {
    let input = try copyFixture(Fixture.utmsmall)
    let before = try FolderSnapshot(dir.path)
    let result = try TesseraBinary.run(["reproject", input, dir.path + "/./utmsmall.tif", "--dst-crs", "EPSG:4326", "--overwrite"])
    XCTAssertEqual(result.status, 64)
    XCTAssertEqual(try FolderSnapshot(dir.path), before)
  }

  func testBadInputsGiveTheDocumentedCodesAndNoOutput() throws {
    let cases: [([String], Int32, String)] = [
      (["reproject", Fixture.utmsmall, dir.file("a.tif"), "--dst-crs", "EPSG:999999"], 64, "EPSG:999999"),
      (["reproject", Fixture.utmsmall, dir.file("a.tif"), "--dst-crs", "wgs84", "--bbox", "10,10,11,11"], 65, "does not overlap"),
      (["mosaic", Fixture.utmsmall, dir.file("missing.tif"), Fixture.utmsmall, "-o", dir.file("a.tif")], 66, "missing.tif"),
      (["mosaic", Fixture.rgbByte, Fixture.utmsmall, "-o", dir.file("a.tif")], 65, "band counts differ"),
      (["resample", Fixture.utmsmall, dir.file("a.tif")], 64, "one of --resolution or --size"),
      (["resample", Fixture.utmsmall, dir.file("a.tif"), "--resolution", "-5"], 64, "resolution"),
      (["mosaic", "-o", dir.file("a.tif")], 64, "input"),
    ]
    for (args, status, text) in cases {
      let result = try TesseraBinary.run(args)
      XCTAssertEqual(result.status, status, "\(args): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(text), "\(args): \(result.stderr)")
      XCTAssertEqual(dir.contents, [], "\(args) left files behind")
    }
  }

  func testMosaicOfQuadrantsFromAGlobAndAList() throws {
    let pattern = Fixture.path("rasterio/rgb?.tif")
    let viaGlob = try TesseraBinary.run(["mosaic", pattern, "-o", dir.file("glob.tif"), "--quiet"])
    XCTAssertEqual(viaGlob.status, 0, viaGlob.stderr)
    let list = dir.file("inputs.txt")
    try Data((1...4).map { Fixture.path("rasterio/rgb\($0).tif") }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: list))
    let viaList = try TesseraBinary.run(["mosaic", "--input-list", list, "-o", dir.file("list.tif"), "--method", "first"])
    XCTAssertEqual(viaList.status, 0, viaList.stderr)
    for file in ["glob.tif", "list.tif"] {
      XCTAssertTrue(try PixelComparison.of(dir.file(file), Fixture.rgbByte).identical, file)
    }
  }

  /// A projection with a bounded domain: GDAL 3.6's multi-threaded warper alone gives a
  /// different result with each thread count, and sometimes between two runs (its extra threads'
  /// transformers skip the round-trip check). Tessera's is one result, every run and every thread
  /// count, and it is gdalwarp's single-threaded one.
  /// A mosaic's box in another CRS is transformed with its edges densified (as GDAL 3.11's
  /// gdalwarp -te_srs does), and band picks read one band of a file: the same pixels as gdalwarp
  /// on that band with the box so transformed.
  func testAMosaicBoxInLonLatAndBandPicks() throws {
    let quadrants = (1...4).map { Fixture.path("rasterio/rgb\($0).tif") }
    let box = ["-77.9", "24.05", "-77.55", "24.4"]
    let ours = dir.file("picked.tif"), theirs = dir.file("picked-gdal.tif")
    let run = try TesseraBinary.run(["mosaic"] + quadrants.map { $0 + ":2" } + ["-o", ours, "--bbox", box.joined(separator: ","),
                                     "--bbox-crs", "EPSG:4326", "--resolution", "300"])
    XCTAssertEqual(run.status, 0, run.stderr)
    // GDAL 3.6's gdalwarp has no -b: the band goes through a VRT first.
    try Oracle.tool("gdal_translate", ["-q", "-of", "VRT", "-b", "2", Fixture.rgbByte, dir.file("band2.vrt")])
    let densified = try Oracle.transformBounds(box, from: "EPSG:4326", to: "EPSG:32618")
    try Oracle.tool("gdalwarp", ["-q", "-te"] + densified + ["-tr", "300", "300", dir.file("band2.vrt"), theirs])
    let comparison = try PixelComparison.of(ours, theirs)
    XCTAssertTrue(comparison.identical, "\(comparison)")
    let outside = try TesseraBinary.run(["mosaic", quadrants[0], "-o", dir.file("x.tif"), "--bbox", "10,10,11,11", "--bbox-crs", "EPSG:4326"])
    XCTAssertEqual(outside.status, 65, outside.stderr)
    let vrt = try TesseraBinary.run(["mosaic", quadrants[0] + ":1", "-o", dir.file("x.vrt"), "--format", "VRT"])
    XCTAssertEqual(vrt.status, 64, vrt.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("x.tif")) || FileManager.default.fileExists(atPath: dir.file("x.vrt")))
  }

  func testReprojectionIsDeterministicWhateverTheThreads() throws {
    let world = Fixture.path("rasterio/world.rgb.tif")
    let sinusoidal = "+proj=sinu +lon_0=0 +R=6371007.181 +units=m +no_defs"
    for (label, options) in [("nodata 0", ["--dst-nodata", "0"]), ("nodata 7 bilinear", ["--dst-nodata", "7", "--resampling", "bilinear"])] {
      let oracle = dir.file("gdalwarp.tif")
      let method = options.contains("bilinear") ? "bilinear" : "near"
      try Oracle.tool("gdalwarp", ["-q", "-overwrite", "-wo", "NUM_THREADS=1", "-t_srs", sinusoidal, "-r", method,
                                   "-dstnodata", options[1], world, oracle])
      for threads in ["1", "2", "4"] {
        for run in 1...3 {
          let out = dir.file("t\(threads)-\(run).tif")
          let result = try TesseraBinary.run(["reproject", world, out, "--dst-crs", sinusoidal, "--threads", threads, "-q"] + options)
          XCTAssertEqual(result.status, 0, result.stderr)
          let comparison = try PixelComparison.of(out, oracle)
          XCTAssertTrue(comparison.identical, "\(label), \(threads) threads, run \(run): \(comparison)")
          try FileManager.default.removeItem(atPath: out)
        }
      }
      try FileManager.default.removeItem(atPath: oracle)
    }
  }

  /// A VRT mosaic is for other programs: it names the real inputs (relative to itself when they
  /// sit beside it), holds every input, and reads as the GTiff mosaic does after Tessera exits.
  func testAVRTMosaicNamesTheRealInputsAndHoldsThemAll() throws {
    let inputs = try (1...4).map { try copyFixture(Fixture.path("rasterio/rgb\($0).tif")) }
    let vrt = try TesseraBinary.run(["mosaic"] + inputs + ["-o", dir.file("m.vrt"), "--format", "VRT"])
    XCTAssertEqual(vrt.status, 0, vrt.stderr)
    let text = try String(contentsOfFile: dir.file("m.vrt"), encoding: .utf8)
    XCTAssertFalse(text.contains("/vsimem/"), text)
    for i in 1...4 { XCTAssertTrue(text.contains(">rgb\(i).tif<"), "rgb\(i).tif is not named relative to the VRT") }
    XCTAssertEqual(try TesseraBinary.run(["mosaic"] + inputs + ["-o", dir.file("m.tif")]).status, 0)
    // Read by GDAL in another process and folder, the VRT is the mosaic.
    let checksums = { (path: String) throws -> [Int] in
      let info = try Oracle.gdalinfo(path, ["-checksum"])
      return (info["bands"] as? [[String: Any]] ?? []).compactMap { $0["checksum"] as? Int }
    }
    XCTAssertEqual(try checksums(dir.file("m.vrt")), try checksums(dir.file("m.tif")))
    XCTAssertEqual(try checksums(dir.file("m.vrt")).count, 3)

    let warped = try TesseraBinary.run(["mosaic", inputs[0], inputs[1], "-o", dir.file("w.vrt"), "--format", "VRT", "--dst-crs", "EPSG:4326"])
    XCTAssertEqual(warped.status, 64, warped.stderr)
    let mixed = try TesseraBinary.run(["mosaic", Fixture.path("gdal_autotest/byte.tif"), Fixture.path("gdal_autotest/uint16.tif"),
                                       "-o", dir.file("x.vrt"), "--format", "VRT"])
    XCTAssertEqual(mixed.status, 64, mixed.stderr)
    XCTAssertFalse(dir.contents.contains("w.vrt") || dir.contents.contains("x.vrt"))
  }

  /// The box is the box: inputs reprojected into a --bbox fill it exactly, with whole pixels of
  /// about the chosen resolution, never overshooting it (and a footprint that leaves the target
  /// projection's domain on the way is no failure).
  func testAMosaicAcrossCRSsEndsExactlyOnTheBox() throws {
    let mercator = dir.file("rgb-3857.tif")
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:3857", Fixture.rgbByte, mercator])
    let run = try TesseraBinary.run(["mosaic", Fixture.rgbByte, mercator, "-o", dir.file("box.tif"), "--dst-crs", "EPSG:32618",
                                     "--bbox", "200000,2650000,330000,2800000", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let info = try Oracle.gdalinfo(dir.file("box.tif"))
    let corners = info["cornerCoordinates"] as? [String: [Double]]
    XCTAssertEqual(corners?["upperLeft"] ?? [], [200000, 2800000])
    let lowerRight = corners?["lowerRight"] ?? []
    XCTAssertEqual(lowerRight.count, 2)
    XCTAssertEqual(lowerRight.first ?? 0, 330000, accuracy: 1e-6)
    XCTAssertEqual(lowerRight.last ?? 0, 2650000, accuracy: 1e-6)
    let size = info["size"] as? [Int] ?? []
    XCTAssertEqual(size.count, 2)
    XCTAssertEqual(Double(size.first ?? 0), 130000 / 300.0, accuracy: 1.5)
  }

  /// Inputs at 60, 120 and 45 m mosaicked at 50 m: resampled by the warper, so the result is
  /// gdalwarp's for every method (a VRT's averages would depend on how it is read).
  func testAMosaicAcrossResolutionsIsGDALWarps() throws {
    try FileManager.default.copyItem(atPath: Fixture.utmsmall, toPath: dir.file("r60.tif"))
    try Oracle.tool("gdalwarp", ["-q", "-tr", "120", "120", "-r", "average", Fixture.utmsmall, dir.file("r120.tif")])
    try Oracle.tool("gdalwarp", ["-q", "-tr", "45", "45", "-r", "bilinear", Fixture.utmsmall, dir.file("r45.tif")])
    let inputs = ["r60.tif", "r120.tif", "r45.tif"].map(dir.file)
    for method in ["average", "bilinear", "nearest", "mode"] {
      let ours = dir.file("m-\(method).tif"), theirs = dir.file("g-\(method).tif")
      let run = try TesseraBinary.run(["mosaic"] + inputs + ["-o", ours, "--resolution", "50", "--resampling", method])
      XCTAssertEqual(run.status, 0, run.stderr)
      try Oracle.tool("gdalwarp", ["-q", "-tr", "50", "50", "-r", method == "nearest" ? "near" : method] + inputs + [theirs])
      let comparison = try PixelComparison.of(ours, theirs)
      XCTAssertTrue(comparison.identical, "\(method): \(comparison)")
    }
  }

  func assertSignalCleansUp(_ signal: Int32, expecting status: Int32) throws {
    let big = try LongJob.input(in: dir.path, percent: 600)
    let before = try FolderSnapshot(dir.path)
    let trial = try SignalTrial.run(LongJob.arguments(big, to: dir.file("out.tif")), signal: signal) {
      SignalTrial.temporaryFile(in: dir.path)
    }
    XCTAssertTrue(trial.wasReady, "never saw the temporary file: \(dir.contents)")
    XCTAssertEqual(trial.reason, .exit)
    XCTAssertEqual(trial.status, status)
    XCTAssertEqual(dir.contents, ["big.tif"], "temporary files left after signal \(signal)")
    XCTAssertEqual(try FolderSnapshot(dir.path), before)
  }

  func testSIGINTRemovesTemporaryFilesAndExits130() throws { try assertSignalCleansUp(SIGINT, expecting: 130) }
  func testSIGTERMRemovesTemporaryFilesAndExits143() throws { try assertSignalCleansUp(SIGTERM, expecting: 143) }
}
