import Foundation
import TestSupport
import XCTest

/// `--src-nodata` and `--dst-nodata` as GDAL's lists, one value per band (issue 26): pixels equal
/// to gdalwarp -srcnodata "A B C" / -dstnodata on the same job, whose rule is that a pixel is
/// nodata only when every band holds its band's value (UNIFIED_SRC_NODATA, which gdalwarp sets).
final class NodataListTests: TemporaryDirectoryTestCase {
  /// Three Byte bands, 4 x 2 pixels: (0,0,255) is nodata under 0,0,255; (0,9,255) and (0,0,0)
  /// are not, as only some bands hold their value.
  static let makeRGB = """
    import sys
    import numpy as np
    from osgeo import gdal, osr
    d = gdal.GetDriverByName('GTiff').Create(sys.argv[1], 4, 2, 3, gdal.GDT_Byte)
    d.SetGeoTransform([0, 1, 0, 2, 0, -1])
    s = osr.SpatialReference(); s.ImportFromEPSG(32633); d.SetProjection(s.ExportToWkt())
    a = np.array([[[0, 0, 5, 0], [1, 2, 3, 4]], [[0, 9, 5, 0], [1, 2, 3, 4]], [[255, 255, 5, 0], [1, 2, 3, 4]]], dtype=np.uint8)
    for i in range(3): d.GetRasterBand(i + 1).WriteArray(a[i])
    d = None
    """

  var rgb = ""

  override func setUpWithError() throws {
    try super.setUpWithError()
    rgb = dir.file("rgb.tif")
    let made = try Run.process(Oracle.python, ["-c", Self.makeRGB, rgb], environment: ["GDAL_PAM_ENABLED": "NO"])
    XCTAssertEqual(made.status, 0, made.stderr)
  }

  func testSourceListsFollowGdalwarpInEveryWriter() throws {
    let reference = dir.file("gdal.tif")
    let window = ["-te", "-1", "-1", "5", "2"]
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:32633"] + window + ["-srcnodata", "0 0 255", "-dstnodata", "7", rgb, reference])
    let box = ["--bbox", "-1,-1,5,2"]
    let jobs: [(String, [String])] = [
      ("reproject", ["reproject", rgb, dir.file("a.tif"), "--dst-crs", "EPSG:32633"] + box),
      ("mosaic", ["mosaic", rgb, "-o", dir.file("b.tif")] + box),
      ("mosaic --method max", ["mosaic", rgb, "-o", dir.file("c.tif"), "--method", "max"] + box),
      ("mosaic --method min", ["mosaic", rgb, "-o", dir.file("d.tif"), "--method", "min"] + box),
    ]
    for (name, args) in jobs {
      let run = try TesseraBinary.run(args + ["--src-nodata", "0,0,255", "--dst-nodata", "7", "--quiet"])
      XCTAssertEqual(run.status, 0, "\(name): \(run.stderr)")
      let output = args[args.firstIndex(of: "-o").map { $0 + 1 } ?? 2]
      let comparison = try PixelComparison.of(output, reference)
      XCTAssertTrue(comparison.identical, "\(name) vs gdalwarp -srcnodata \"0 0 255\": \(comparison)")
    }
    let resampled = dir.file("e.tif"), warped = dir.file("e-gdal.tif")
    let run = try TesseraBinary.run(["resample", rgb, resampled, "--size", "8,4", "--src-nodata", "0,0,255", "--dst-nodata", "7", "--quiet"])
    XCTAssertEqual(run.status, 0, run.stderr)
    try Oracle.tool("gdalwarp", ["-q", "-ts", "8", "4", "-srcnodata", "0 0 255", "-dstnodata", "7", rgb, warped])
    XCTAssertTrue(try PixelComparison.of(resampled, warped).identical)
  }

  func testDestinationListsGiveEachBandItsValue() throws {
    // A VRT keeps one nodata per band, as gdalwarp -dstnodata "7 8 9" -of VRT writes it.
    let vrt = dir.file("out.vrt"), reference = dir.file("gdal.vrt")
    let run = try TesseraBinary.run(["reproject", rgb, vrt, "--dst-crs", "EPSG:32633", "--dst-nodata", "7,8,9", "--quiet"])
    XCTAssertEqual(run.status, 0, run.stderr)
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:32633", "-dstnodata", "7 8 9", "-of", "VRT", rgb, reference])
    let nodata = try (Oracle.gdalinfo(vrt)["bands"] as? [[String: Any]] ?? []).map { $0["noDataValue"] as? Double }
    XCTAssertEqual(nodata, [7, 8, 9])
    XCTAssertTrue(try PixelComparison.of(vrt, reference).identical)
    // Equal values are one value for the file, in any format.
    let same = try TesseraBinary.run(["cog-export", rgb, dir.file("same.tif"), "--dst-nodata", "3,3,3", "--quiet"])
    XCTAssertEqual(same.status, 0, same.stderr)
    let declared = try (Oracle.gdalinfo(dir.file("same.tif"))["bands"] as? [[String: Any]] ?? []).map { $0["noDataValue"] as? Double }
    XCTAssertEqual(declared, [3, 3, 3])
  }

  func testListRefusals() throws {
    let cases: [([String], [String])] = [
      // A count that is not the band count names both.
      (["reproject", rgb, dir.file("a.tif"), "--dst-crs", "EPSG:32633", "--dst-nodata", "7,8"], ["--dst-nodata 7,8", "2 values", "3 bands"]),
      (["mosaic", rgb, "-o", dir.file("b.tif"), "--src-nodata", "0,0,0,0"], ["--src-nodata", "4 values", "3 bands"]),
      (["clip", rgb, dir.file("c.tif"), "--bbox", "0,0,4,2", "--src-nodata", "1,2"], ["--src-nodata", "2 values", "3 bands"]),
      // GeoTIFF holds one nodata for the file: differing values would not survive.
      (["reproject", rgb, dir.file("d.tif"), "--dst-crs", "EPSG:32633", "--dst-nodata", "7,8,9"], ["--dst-nodata 7,8,9", "one nodata value"]),
      (["cog-export", rgb, dir.file("e.tif"), "--dst-nodata", "1,2,3"], ["--dst-nodata 1,2,3", "one nodata value"]),
      (["reproject", rgb, dir.file("f.tif"), "--dst-crs", "EPSG:32633", "--dst-nodata", "7,8,300"], ["--dst-nodata 300", "Byte"]),
      // The old spelling names the new one.
      (["cog-export", rgb, dir.file("g.tif"), "--nodata", "3"], ["--dst-nodata"]),
    ]
    for (args, words) in cases {
      let run = try TesseraBinary.run(args)
      XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
      for word in words { XCTAssertTrue(run.stderr.contains(word), "\(args): \(run.stderr)") }
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    }
    XCTAssertEqual(dir.contents, ["rgb.tif"], "nothing written")
  }
}
