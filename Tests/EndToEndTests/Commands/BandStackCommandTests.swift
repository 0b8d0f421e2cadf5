import Foundation
import GDAL
import TestSupport
import XCTest

/// band-stack as a script runs it: exit codes, one-line errors, JSON, nothing left, inputs untouched.
final class BandStackCommandTests: TemporaryDirectoryTestCase {
  func s2(_ band: String) -> String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_\(band).jp2") }

  func testNonASCIIPathsAGlobAndTheReport() throws {
    let folder = dir.file("影像 波段")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for band in ["B02", "B03", "B04"] { try FileManager.default.copyItem(atPath: s2(band), toPath: folder + "/T33UUU_\(band) 原始.jp2") }
    let before = try FolderSnapshot(folder)
    let out = dir.file("合成 结果.tif")
    let run = try TesseraBinary.run(["band-stack", folder + "/*.jp2", "-o", out, "--descriptions", "B02,B03,B04", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    XCTAssertEqual((report["inputs"] as? [[String: Any]])?.map { $0["name"] as? String }, ["B02", "B03", "B04"])
    XCTAssertEqual(report["extent"] as? String, "union")
    XCTAssertEqual(report["data_type"] as? String, "UInt16")
    XCTAssertEqual(try Dataset.open(out).bandCount, 3)
    XCTAssertEqual(try FolderSnapshot(folder), before)
  }

  func testBadInputsGiveTheirCodesOneLineAndNoOutput() throws {
    let copy = dir.file("b04.jp2")
    try FileManager.default.copyItem(atPath: s2("B04"), toPath: copy)
    let before = try FolderSnapshot(dir.path)
    let cases: [([String], Int32)] = [
      ([copy, s2("B11")], 65),
      ([copy, Fixture.rgbByte], 65),
      ([copy + ":2"], 65),
      ([dir.file("missing.tif")], 66),
      // --resolution same is the default said aloud: inputs on different grids are refused.
      ([copy, s2("B11"), "--resolution", "same"], 65),
      ([copy, "--resolution", "0"], 64),
      ([copy, "--ot", "Float128"], 64),
      ([], 64),
      // Band picks that are no band: never a missing file (66), never band 1 by another spelling.
      ([copy + ":0"], 64),
      ([copy + ":+1"], 64),
      ([copy + ":99999999999999999999"], 64),
      ([copy, copy, "--color-interp", "red,bogus"], 64),
    ]
    for (args, code) in cases {
      let run = try TesseraBinary.run(["band-stack"] + args + ["-o", dir.file("out.tif"), "--json"])
      XCTAssertEqual(run.status, code, "\(args): \(run.stderr)")
      let lines = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
      XCTAssertEqual(lines.count, 1, "\(args): \(run.stderr)")
      XCTAssertTrue(lines.first?.hasPrefix("tessera band-stack: ") ?? false, run.stderr)
      XCTAssertEqual(try FolderSnapshot(dir.path), before, "\(args) left something or touched the input")
    }
  }

  /// Three single-band Byte files on one grid, 4 x 3 pixels of 0,1,2,3 in each row, with their
  /// own nodata 1, 2 and none.
  static let makeBands = """
    import sys
    import numpy as np
    from osgeo import gdal, osr
    for i, nodata in enumerate([1, 2, None]):
      d = gdal.GetDriverByName('GTiff').Create(sys.argv[1] + '/in%d.tif' % i, 4, 3, 1, gdal.GDT_Byte)
      d.SetGeoTransform([0, 1, 0, 3, 0, -1])
      s = osr.SpatialReference(); s.ImportFromEPSG(32633); d.SetProjection(s.ExportToWkt())
      d.GetRasterBand(1).WriteArray(np.tile(np.arange(4, dtype=np.uint8), (3, 1)))
      if nodata is not None: d.GetRasterBand(1).SetNoDataValue(nodata)
      d = None
    """

  func declaredNodata(_ path: String) throws -> [Double?] {
    try (Oracle.gdalinfo(path)["bands"] as? [[String: Any]] ?? []).map { $0["noDataValue"] as? Double }
  }

  /// --src-nodata and --dst-nodata as gdalbuildvrt -separate -srcnodata -vrtnodata + gdal_translate
  /// (and gdalwarp -dstnodata over the stack): pixels and declared nodata equal.
  func testNodataOptionsAsGDALsStack() throws {
    let made = try Run.process(Oracle.python, ["-c", Self.makeBands, dir.path], environment: ["GDAL_PAM_ENABLED": "NO"])
    XCTAssertEqual(made.status, 0, made.stderr)
    let inputs = (0..<3).map { dir.file("in\($0).tif") }
    func gdalStack(_ name: String, _ options: [String]) throws -> String {
      let vrt = dir.file(name + ".vrt"), tif = dir.file(name + ".tif")
      try Oracle.tool("gdalbuildvrt", ["-q", "-separate"] + options + [vrt] + inputs)
      try Oracle.tool("gdal_translate", ["-q", vrt, tif])
      return tif
    }
    let cases: [(given: [String], gdal: [String], declared: Double?)] = [
      (["--dst-nodata", "7"], ["-vrtnodata", "7"], 7),
      (["--src-nodata", "0,1,2", "--dst-nodata", "9"], ["-srcnodata", "0 1 2", "-vrtnodata", "9"], 9),
      (["--src-nodata", "3"], ["-srcnodata", "3"], 3),
      (["--dst-nodata", "none"], ["-vrtnodata", "None"], nil),
      (["--src-nodata", "none", "--dst-nodata", "none"], ["-srcnodata", "None", "-vrtnodata", "None"], nil),
    ]
    for (n, c) in cases.enumerated() {
      let out = dir.file("stack\(n).tif")
      let run = try TesseraBinary.run(["band-stack"] + inputs + ["-o", out, "--quiet"] + c.given)
      XCTAssertEqual(run.status, 0, "\(c.given): \(run.stderr)")
      let reference = try gdalStack("gdal\(n)", c.gdal)
      let comparison = try PixelComparison.of(out, reference)
      XCTAssertTrue(comparison.identical, "\(c.given) vs gdalbuildvrt \(c.gdal): \(comparison)")
      XCTAssertEqual(try declaredNodata(out), [c.declared, c.declared, c.declared], "\(c.given)")
    }
    // gdalwarp -dstnodata over the plain stack writes the same: each band's own nodata becomes 7.
    try Oracle.tool("gdalbuildvrt", ["-q", "-separate", dir.file("plain.vrt")] + inputs)
    try Oracle.tool("gdalwarp", ["-q", "-dstnodata", "7", dir.file("plain.vrt"), dir.file("warped.tif")])
    XCTAssertTrue(try PixelComparison.of(dir.file("stack0.tif"), dir.file("warped.tif")).identical)
    XCTAssertEqual(try declaredNodata(dir.file("warped.tif")), [7, 7, 7])
    let refused: [([String], String)] = [
      (["--src-nodata", "0,1"], "--src-nodata 0,1 gives 2 values"),
      (["--dst-nodata", "7,8,9"], "one nodata value"),
      (["--dst-nodata", "300"], "does not fit"),
      (["--dst-nodata", "7", "-f", "VRT"], "VRT"),
    ]
    for (given, message) in refused {
      let run = try TesseraBinary.run(["band-stack"] + inputs + ["-o", dir.file("refused.tif")] + given)
      XCTAssertEqual(run.status, 64, "\(given): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains(message), "\(given): \(run.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("refused.tif")))
    }
  }
}
