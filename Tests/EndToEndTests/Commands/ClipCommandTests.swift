import Foundation
import GDAL
import TestSupport
import XCTest

/// clip as a script runs it: exit codes, one-line errors, JSON, nothing left, inputs untouched.
final class ClipCommandTests: TemporaryDirectoryTestCase {
  func json(_ text: String) throws -> [String: Any] {
    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  func testReportAndSpellings() throws {
    let run = try TesseraBinary.run(["clip", Fixture.rgbByte, "-o", dir.file("c.tif"), "--cutline", Fixture.path("rasterio/box.shp"), "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try json(run.stdout)
    let region = try XCTUnwrap(report["region"] as? [String: Any])
    XCTAssertEqual(region["kind"] as? String, "cutline")
    XCTAssertEqual((region["crs"] as? [String: Any])?["epsg"] as? Int, 32618)
    XCTAssertEqual(region["feature_count"] as? Int, 1)
    XCTAssertEqual(report["all_touched"] as? Bool, false)
    XCTAssertGreaterThan(report["pixels_inside"] as? Int ?? 0, 40_000)
    XCTAssertEqual((report["outputs"] as? [[String: Any]])?.first?["width"] as? Int, 250, "the columns the box covers pixel centres of")
    XCTAssertEqual(dir.contents, ["c.tif"])
  }

  func testBadInputsGiveTheirCodesOneLineAndNoOutput() throws {
    let copy = dir.file("in.tif")
    try FileManager.default.copyItem(atPath: Fixture.utmsmall, toPath: copy)
    let before = try FolderSnapshot(dir.path)
    let cases: [([String], Int32)] = [
      (["--bbox", "0,0,1,1"], 65),
      (["--geometry", "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"], 65),
      (["--geometry", "LINESTRING(0 0, 1 1)"], 65),
      (["--cutline", Fixture.path("rasterio/box.shp"), "--layer", "nope"], 64),
      (["--cutline", Fixture.path("gdal_autotest/cutline.vrt"), "--where", "1 = 0"], 65),
      (["--cutline", dir.file("missing.geojson")], 66),
      (["--cutline", copy], 65),
      (["--bbox", "1,2,3,4", "--geometry", "POINT(1 1)"], 64),
      ([], 64),
      (["--bbox", "440000,3740000,450000,3760000", "-b", "2"], 65),
    ]
    for (args, code) in cases {
      let run = try TesseraBinary.run(["clip", copy, dir.file("out.tif")] + args + ["--json"])
      XCTAssertEqual(run.status, code, "\(args): \(run.stderr)")
      let lines = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
      XCTAssertEqual(lines.count, 1, "\(args): \(run.stderr)")
      XCTAssertTrue(lines.first?.hasPrefix("tessera clip: ") ?? false, run.stderr)
      XCTAssertEqual((try? json(run.stdout))?["exit_code"] as? Int, Int(code), "\(args)")
      XCTAssertEqual(try FolderSnapshot(dir.path), before, "\(args) left something or touched the input")
    }
  }

  /// Paths with spaces and non-ASCII characters, and an ERDAS Imagine input.
  func testUnusualPathsAndAnImagineInput() throws {
    let folder = dir.file("影像")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let img = folder + "/原始 数据.img"
    try Oracle.tool("gdal_translate", ["-q", "-of", "HFA", Fixture.utmsmall, img])
    let out = folder + "/裁剪 结果.tif"
    let run = try TesseraBinary.run(["clip", img, out, "--cutline", Fixture.path("gdal_autotest/cutline.vrt")])
    XCTAssertEqual(run.status, 0, run.stderr)
    try Oracle.tool("gdalwarp", ["-q", "-cutline", Fixture.path("gdal_autotest/cutline.vrt"), "-crop_to_cutline", Fixture.utmsmall, dir.file("g.tif")])
    let ours = try Dataset.open(out), theirs = try Dataset.open(dir.file("g.tif"))
    XCTAssertGreaterThanOrEqual(ours.width, theirs.width)
    let folderContents = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    XCTAssertEqual(folderContents.filter { !$0.hasSuffix(".aux.xml") }, ["原始 数据.img", "裁剪 结果.tif"])
  }

  func testEachFeatureIntoAFolder() throws {
    let folder = dir.file("by field")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let run = try TesseraBinary.run(["clip", Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2"), "-o", folder,
                                     "--cutline", Fixture.path("eo-box/s2l1c/s2l1c_ref.gpkg"), "--each-feature", "--json", "-q"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try json(run.stdout)
    XCTAssertEqual((report["outputs"] as? [Any])?.count, 29, "30 features, one outside the scene")
    XCTAssertEqual(report["skipped"] as? [Int], [18])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).count, 29)
    let missingField = try TesseraBinary.run(["clip", Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2"), "-o", dir.path,
                                              "--cutline", Fixture.path("eo-box/s2l1c/s2l1c_ref.gpkg"), "--each-feature", "--name-field", "nope"])
    XCTAssertEqual(missingField.status, 64, missingField.stderr)
  }

  /// The report's region CRS is the CRS its bounds are in; the CRS it was given in is apart.
  func testTheRegionsCRSIsThatOfItsBounds() throws {
    let run = try TesseraBinary.run(["clip", Fixture.rgbByte, dir.file("c.tif"), "--bbox", "-77.5,24.2,-77.3,24.4", "--bbox-crs", "EPSG:4326", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let region = try XCTUnwrap(try json(run.stdout)["region"] as? [String: Any])
    XCTAssertEqual((region["crs"] as? [String: Any])?["epsg"] as? Int, 32618)
    XCTAssertEqual((region["given_crs"] as? [String: Any])?["epsg"] as? Int, 4326)
    let bounds = try XCTUnwrap(region["bounds"] as? [String: Double])
    let expected = try Oracle.transformBounds(["-77.5", "24.2", "-77.3", "24.4"], from: "EPSG:4326", to: "EPSG:32618").compactMap(Double.init)
    XCTAssertEqual(try XCTUnwrap(bounds["minx"]), expected[0], accuracy: 1)
    XCTAssertEqual(try XCTUnwrap(bounds["maxy"]), expected[3], accuracy: 1)
  }

  /// GeoJSON drawn in lon/lat clips a UTM scene; a file given to --geometry is 64 naming --cutline.
  func testGeoJSONTextIsLonLatAndAFileIsForCutline() throws {
    let text = #"{"type":"Polygon","coordinates":[[[-78.2,24.3],[-77.6,24.2],[-77.5,24.9],[-78.2,24.3]]]}"#
    let file = dir.file("drawn.geojson")
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    let ok = try TesseraBinary.run(["clip", Fixture.rgbByte, dir.file("c.tif"), "--geometry", text])
    XCTAssertEqual(ok.status, 0, ok.stderr)
    let asFile = try TesseraBinary.run(["clip", Fixture.rgbByte, dir.file("d.tif"), "--geometry", file])
    XCTAssertEqual(asFile.status, 64, asFile.stderr)
    XCTAssertTrue(asFile.stderr.hasPrefix("tessera clip: ") && asFile.stderr.contains("--cutline"), asFile.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("d.tif")))
    let miss = try TesseraBinary.run(["clip", Fixture.rgbByte, dir.file("e.tif"), "--bbox", "-78.2,24.3,-77.6,24.9"])
    XCTAssertEqual(miss.status, 65, miss.stderr)
    XCTAssertTrue(miss.stderr.contains("did you mean --bbox-crs EPSG:4326?"), miss.stderr)
  }

  /// band-stack --help says a pixel size aligns the grid as gdalbuildvrt -tap does.
  func testBandStackHelpStatesTheAlignment() throws {
    let help = try TesseraBinary.run(["band-stack", "--help"])
    XCTAssertEqual(help.status, 0)
    let text = help.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
    XCTAssertTrue(text.contains("multiples of X and Y") && text.contains("-tap"), text)
  }
}
