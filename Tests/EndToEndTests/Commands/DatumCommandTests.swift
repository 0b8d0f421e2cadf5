import Foundation
import TestSupport
import XCTest

/// Datum changes as a user meets them: a Beijing 1954 raster near Beijing, where PROJ knows no
/// transformation to CGCS2000 or WGS 84 and falls back to a ballpark (null) shift, and one in the
/// Pearl River area, where it knows EPSG:15920 (Beijing 1954 to WGS 84 (3)). The transformations
/// a user gives (--ct, --src-towgs84) are checked against gdalwarp given the same text.
final class DatumCommandTests: TemporaryDirectoryTestCase {
  /// Beijing 1954 to CGCS2000 through WGS 84 by three translations, in the CRSs' own axis order
  /// (latitude first), as gdalwarp -ct wants it.
  static let pipeline = "+proj=pipeline +step +proj=axisswap +order=2,1 +step +proj=unitconvert +xy_in=deg +xy_out=rad "
    + "+step +proj=cart +ellps=krass +step +proj=helmert +x=15.8 +y=-154.4 +z=-82.3 +step +inv +proj=cart +ellps=GRS80 "
    + "+step +proj=unitconvert +xy_in=rad +xy_out=deg +step +proj=axisswap +order=2,1"
  static let towgs84 = "15.8,-154.4,-82.3"

  /// A 100 x 100 three-band raster in Beijing 1954 (EPSG:4214), 0.0002° pixels (about 20 m)
  /// with its upper left corner at `west`, `north`.
  func beijing1954(_ name: String, west: Double, north: Double, epsg: Int = 4214) throws -> String {
    let path = dir.file(name)
    try Oracle.tool("gdal_translate", ["-q", "-srcwin", "100", "100", "100", "100", "-a_srs", "EPSG:\(epsg)",
                                       "-a_ullr", "\(west)", "\(north)", "\(west + 0.02)", "\(north - 0.02)",
                                       Fixture.path("rasterio/rgb1.tif"), path])
    return path
  }

  func nearBeijing() throws -> String { try beijing1954("beijing.tif", west: 116.38, north: 39.92) }

  func json(_ result: ProcessResult) throws -> [String: Any] {
    try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
  }

  func origin(_ path: String) throws -> [Double] {
    let gt = try XCTUnwrap(Oracle.gdalinfo(path)["geoTransform"] as? [Double])
    return [gt[0], gt[3]]
  }

  func ballparkLines(_ stderr: String) -> [Substring] {
    stderr.split(separator: "\n").filter { $0.contains("ballpark") }
  }

  // MARK: - Ballpark: warned, or refused

  func testBallparkDatumChangeWarnsOnStderrAndInJSON() throws {
    let input = try nearBeijing()
    let result = try TesseraBinary.run(["reproject", input, dir.file("out.tif"), "--dst-crs", "cgcs2000", "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let lines = ballparkLines(result.stderr)
    XCTAssertEqual(lines.count, 1, result.stderr)
    let line = String(lines.first ?? "")
    for word in ["Beijing 1954", "China 2000", "--ct", "--src-towgs84"] { XCTAssertTrue(line.contains(word), "\(word): \(line)") }
    let warnings = try json(result)["warnings"] as? [String] ?? []
    XCTAssertTrue(warnings.contains { line.hasSuffix($0) }, "\(warnings) vs \(line)")
  }

  func testStrictDatumRefusesWith65AndWritesNothing() throws {
    let input = try nearBeijing()
    let out = dir.file("out.tif")
    let result = try TesseraBinary.run(["reproject", input, out, "--dst-crs", "cgcs2000", "--strict-datum"])
    XCTAssertEqual(result.status, 65, result.stderr)
    XCTAssertTrue(result.stderr.hasPrefix("tessera reproject: "), result.stderr)
    XCTAssertTrue(result.stderr.contains("ballpark"), result.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    XCTAssertEqual(dir.contents, ["beijing.tif"])
  }

  func testKnownTransformationInThePearlRiverAreaDoesNotWarn() throws {
    // EPSG:15920's area: 110.13-116.76E, 18.31-22.89N.
    let input = try beijing1954("pearl.tif", west: 113.10, north: 22.12)
    let out = dir.file("out.tif"), ref = dir.file("ref.tif")
    let result = try TesseraBinary.run(["reproject", input, out, "--dst-crs", "wgs84", "--strict-datum", "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(ballparkLines(result.stderr).isEmpty, result.stderr)
    XCTAssertEqual((try json(result)["warnings"] as? [String])?.filter { $0.contains("ballpark") }, [])
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:4326", input, ref])
    XCTAssertTrue(try PixelComparison.of(out, ref).identical)
    // The transformation moved the data (a null shift would keep the corner at 113.10, 22.12).
    XCTAssertGreaterThan(abs(try origin(out)[0] - 113.10), 1e-4)
  }

  func testMosaicTimelapseAndClipWarnToo() throws {
    let input = try nearBeijing()
    let mosaic = try TesseraBinary.run(["mosaic", input, "-o", dir.file("m.tif"), "--dst-crs", "cgcs2000", "--json"])
    XCTAssertEqual(mosaic.status, 0, mosaic.stderr)
    XCTAssertEqual(ballparkLines(mosaic.stderr).count, 1, mosaic.stderr)
    XCTAssertTrue((try json(mosaic)["warnings"] as? [String] ?? []).contains { $0.contains("ballpark") })
    let strict = try TesseraBinary.run(["mosaic", input, "-o", dir.file("m2.tif"), "--dst-crs", "cgcs2000", "--strict-datum"])
    XCTAssertEqual(strict.status, 65, strict.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("m2.tif")))

    let clip = try TesseraBinary.run(["clip", input, dir.file("c.tif"), "--bbox", "116.385,39.905,116.395,39.915",
                                      "--bbox-crs", "cgcs2000", "--json"])
    XCTAssertEqual(clip.status, 0, clip.stderr)
    XCTAssertEqual(ballparkLines(clip.stderr).count, 1, clip.stderr)

    // Frames in another datum than the first frame's grid.
    let other = dir.file("other.tif")
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:4490", input, other])
    let timelapse = try TesseraBinary.run(["timelapse", input, other, "-o", dir.file("t.gif"), "--strict-datum"])
    XCTAssertEqual(timelapse.status, 65, timelapse.stderr)
    XCTAssertTrue(timelapse.stderr.contains("ballpark"), timelapse.stderr)
  }

  // MARK: - Transformations the user gives

  func testCTEqualsGdalwarpCTAndMovesTheOutput() throws {
    let input = try nearBeijing()
    let plain = dir.file("plain.tif"), out = dir.file("ct.tif"), ref = dir.file("ct-gdal.tif")
    XCTAssertEqual(try TesseraBinary.run(["reproject", input, plain, "--dst-crs", "cgcs2000", "-q"]).status, 0)
    let result = try TesseraBinary.run(["reproject", input, out, "--dst-crs", "cgcs2000", "--ct", Self.pipeline, "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(ballparkLines(result.stderr).isEmpty, result.stderr)
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:4490", "-ct", Self.pipeline, input, ref])
    let comparison = try PixelComparison.of(out, ref)
    XCTAssertTrue(comparison.identical, "\(comparison)")
    let moved = try origin(out), still = try origin(plain)
    XCTAssertGreaterThan(abs(moved[0] - still[0]), 3e-4, "\(moved) vs \(still)")
    XCTAssertGreaterThan(abs(moved[1] - still[1]), 1e-4, "\(moved) vs \(still)")

    // The same through mosaic.
    let mosaic = dir.file("m.tif")
    XCTAssertEqual(try TesseraBinary.run(["mosaic", input, "-o", mosaic, "--dst-crs", "cgcs2000", "--ct", Self.pipeline, "-q"]).status, 0)
    XCTAssertEqual(try origin(mosaic), try origin(ref))
  }

  func testCTAsEPSGOperationURN() throws {
    let input = try beijing1954("pearl.tif", west: 113.10, north: 22.12)
    let out = dir.file("urn.tif"), ref = dir.file("urn-gdal.tif")
    let urn = "urn:ogc:def:coordinateOperation:EPSG::15920"
    XCTAssertEqual(try TesseraBinary.run(["reproject", input, out, "--dst-crs", "EPSG:4326", "--ct", urn, "-q"]).status, 0)
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:4326", "-ct", urn, input, ref])
    XCTAssertTrue(try PixelComparison.of(out, ref).identical)
    let bad = try TesseraBinary.run(["reproject", input, dir.file("bad.tif"), "--dst-crs", "wgs84", "--ct", "no such operation"])
    XCTAssertEqual(bad.status, 64, bad.stderr)
    XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
    XCTAssertTrue(bad.stderr.contains("--ct"), bad.stderr)
    // --ct says the whole way: towgs84 parameters beside it would be ignored by one or the other.
    let both = try TesseraBinary.run(["reproject", input, dir.file("both.tif"), "--dst-crs", "wgs84", "--ct", urn, "--src-towgs84", "1,2,3"])
    XCTAssertEqual(both.status, 64, both.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("both.tif")))
  }

  func testSrcTOWGS84EqualsGdalwarpWithTheSameTOWGS84AndMovesTheOutput() throws {
    let input = try nearBeijing()
    for params in [Self.towgs84, "15.8,-154.4,-82.3,0.5,-0.3,1.2,2.5"] {
      let plain = dir.file("plain.tif"), out = dir.file("tw.tif"), ref = dir.file("tw-gdal.tif")
      for path in [plain, out, ref] { try? FileManager.default.removeItem(atPath: path) }
      XCTAssertEqual(try TesseraBinary.run(["reproject", input, plain, "--dst-crs", "wgs84", "-q"]).status, 0)
      let result = try TesseraBinary.run(["reproject", input, out, "--dst-crs", "wgs84", "--src-towgs84", params, "--strict-datum"])
      XCTAssertEqual(result.status, 0, result.stderr)
      try Oracle.tool("gdalwarp", ["-q", "-s_srs", "+proj=longlat +ellps=krass +towgs84=\(params) +no_defs", "-t_srs", "EPSG:4326", input, ref])
      let comparison = try PixelComparison.of(out, ref)
      XCTAssertTrue(comparison.identical, "\(params): \(comparison)")
      XCTAssertGreaterThan(abs(try origin(out)[0] - (try origin(plain))[0]), 3e-4, params)
    }
  }

  func testSrcAndDstTOWGS84ToCGCS2000EqualGdalwarp() throws {
    let input = try nearBeijing()
    // Alone, --src-towgs84 reaches WGS 84 only: PROJ still goes on to CGCS2000 by a null shift, and says so.
    let alone = try TesseraBinary.run(["reproject", input, dir.file("a.tif"), "--dst-crs", "cgcs2000", "--src-towgs84", Self.towgs84])
    XCTAssertEqual(alone.status, 0, alone.stderr)
    XCTAssertTrue(ballparkLines(alone.stderr).first?.contains("--dst-towgs84") ?? false, alone.stderr)

    let out = dir.file("both.tif"), ref = dir.file("both-gdal.tif")
    let result = try TesseraBinary.run(["reproject", input, out, "--dst-crs", "cgcs2000", "--src-towgs84", Self.towgs84,
                                        "--dst-towgs84", "0,0,0", "--strict-datum"])
    XCTAssertEqual(result.status, 0, result.stderr)
    try Oracle.tool("gdalwarp", ["-q", "-s_srs", "+proj=longlat +ellps=krass +towgs84=\(Self.towgs84) +no_defs",
                                 "-t_srs", "+proj=longlat +ellps=GRS80 +towgs84=0,0,0 +no_defs", input, ref])
    XCTAssertTrue(try PixelComparison.of(out, ref).identical)
    XCTAssertGreaterThan(abs(try origin(out)[0] - 116.38), 3e-4)
  }

  // MARK: - Aliases in the CLI

  func testInfoNamesTheEPSGCodeOfEveryAlias() throws {
    let input = try nearBeijing()
    let expected = ["bj54": 4214, "beijing54": 4214, "xian80": 4610, "cgcs2000-gk3": 4548, "cgcs2000-gk6": 4509,
                    "xian1980-gk3": 2384, "xian1980-gk6": 2345, "beijing1954-gk3": 2436, "beijing1954-gk6": 21460,
                    "cgcs2000-gk3:114": 4547]
    for (alias, epsg) in expected {
      let result = try TesseraBinary.run(["info", "--crs", alias, input, "--json"])
      XCTAssertEqual(result.status, 0, result.stderr)
      XCTAssertEqual((try json(result)["crs"] as? [String: Any])?["epsg"] as? Int, epsg, alias)
      let text = try TesseraBinary.run(["info", "--crs", alias, input])
      XCTAssertTrue(text.stdout.contains("EPSG:\(epsg)"), text.stdout)
    }
    let help = try TesseraBinary.run(["reproject", "--help"])
    for code in ["EPSG:4547", "EPSG:4214", "EPSG:4610", "bj54", "cgcs2000-gk3", "--ct", "--src-towgs84", "--strict-datum"] {
      XCTAssertTrue(help.stdout.contains(code), code)
    }
    // The Gauss-Krüger alias in a real run: the output is the 3° zone of CM 117E.
    let out = dir.file("gk.tif")
    XCTAssertEqual(try TesseraBinary.run(["reproject", input, out, "--dst-crs", "beijing1954-gk3", "-q"]).status, 0)
    XCTAssertTrue((try Oracle.gdalinfo(out)["coordinateSystem"] as? [String: Any])?["wkt"].map { "\($0)".contains("2436") } ?? false)
  }
}
