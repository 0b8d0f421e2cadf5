import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// clip against GDAL's tools: gdal_translate -srcwin for boxes, and for polygons a
/// gdal_rasterize mask of the same geometry over the same window (GDAL's cutline rule), plus
/// gdalwarp -cutline -crop_to_cutline on the window it keeps.
final class ClipTests: TemporaryDirectoryTestCase {
  var s2: String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2") }
  var reference: String { Fixture.path("eo-box/s2l1c/s2l1c_ref.gpkg") }
  var box: String { Fixture.path("rasterio/box.shp") }

  @discardableResult
  func clip(_ input: String, _ name: String, _ region: ClipRequest.Region, configure: (inout ClipRequest) -> Void = { _ in }) throws -> String {
    var request = ClipRequest(input: input, output: OutputSpec(path: dir.file(name)), region: region, resources: Resources(threads: 2))
    configure(&request)
    _ = try Clip.run(request)
    return dir.file(name)
  }

  /// The expected clip of `input` on `ours`'s window: the source's pixels where a
  /// gdal_rasterize mask of `vector` (reprojected with ogr2ogr when `srs` is given) is 1, else
  /// `fill`; `alpha` expects an alpha band of the mask instead.
  func assertRasterizeOracle(_ ours: String, input: String, vector: String, rasterizeArguments: [String] = [], fill: Double,
                             alpha: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
    let out = try Dataset.open(ours), src = try Dataset.open(input)
    let gt = try XCTUnwrap(out.geoTransform), sgt = try XCTUnwrap(src.geoTransform)
    let x = Int(((gt[0] - sgt[0]) / sgt[1]).rounded()), y = Int(((gt[3] - sgt[3]) / sgt[5]).rounded())
    let crop = dir.file("oracle-crop.tif"), mask = dir.file("oracle-mask.tif")
    try Oracle.tool("gdal_translate", ["-q", "-srcwin", "\(x)", "\(y)", "\(out.width)", "\(out.height)", input, crop])
    let e = RasterInfo.bounds(geoTransform: gt, width: out.width, height: out.height)
    try Oracle.tool("gdal_rasterize", ["-q", "-burn", "1", "-init", "0", "-ot", "Byte", "-te", "\(e.minX)", "\(e.minY)", "\(e.maxX)", "\(e.maxY)",
                                       "-ts", "\(out.width)", "\(out.height)"] + rasterizeArguments + [vector, mask])
    let result = try Oracle.python("""
      import json, numpy as np
      from osgeo import gdal
      ours = gdal.Open('\(ours)').ReadAsArray().astype('float64')
      crop = gdal.Open('\(crop)').ReadAsArray().astype('float64')
      mask = gdal.Open('\(mask)').ReadAsArray()
      if ours.ndim == 2: ours = ours[None]
      if crop.ndim == 2: crop = crop[None]
      n = crop.shape[0]
      expected = np.where(mask[None] == 1, crop, \(fill))
      bad = int((ours[:n] != expected).sum())
      alpha = int((ours[n] != np.where(mask == 1, 255, 0)).sum()) if \(alpha ? "True" : "False") else 0
      print(json.dumps({"bad": bad, "alpha": alpha, "inside": int(mask.sum()), "bands": int(ours.shape[0])}))
      """) as? [String: Int]
    let r = try XCTUnwrap(result)
    XCTAssertEqual(r["bad"], 0, "pixels differ from the rasterized oracle", file: file, line: line)
    XCTAssertEqual(r["alpha"], 0, "alpha differs from the mask", file: file, line: line)
    XCTAssertGreaterThan(r["inside"] ?? 0, 0, file: file, line: line)
  }

  /// Every pixel gdalwarp -crop_to_cutline keeps (it rounds its extent inward) is ours too.
  func assertGDALWarpAgrees(_ ours: String, _ input: String, cutline: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let theirs = dir.file("gdalwarp-\(UUID().uuidString.prefix(6)).tif")
    try Oracle.tool("gdalwarp", ["-q", "-cutline"] + cutline + ["-crop_to_cutline", input, theirs])
    let a = try Dataset.open(ours), b = try Dataset.open(theirs)
    let ga = try XCTUnwrap(a.geoTransform), gb = try XCTUnwrap(b.geoTransform)
    let dx = Int(((gb[0] - ga[0]) / ga[1]).rounded()), dy = Int(((gb[3] - ga[3]) / ga[5]).rounded())
    XCTAssertEqual(gb[1], ga[1], accuracy: 1e-9 * abs(ga[1]), "gdalwarp kept the source grid", file: file, line: line)
    XCTAssertEqual(((gb[0] - ga[0]) / ga[1]) - Double(dx), 0, accuracy: 1e-6, "the same pixel corners", file: file, line: line)
    // gdalwarp's window may reach past the source (it takes the cutline's extent; ours stops at
    // the raster's edge): compare where both are, and what gdalwarp has beyond ours must be fill.
    let x0 = max(0, dx), y0 = max(0, dy), x1 = min(a.width, dx + b.width), y1 = min(a.height, dy + b.height)
    XCTAssertTrue(x1 > x0 && y1 > y0, "the two windows overlap", file: file, line: line)
    for band in 1...b.bandCount {
      let theirsValues = try b.band(band).read(Window(x: x0 - dx, y: y0 - dy, width: x1 - x0, height: y1 - y0), as: Double.self)
      let oursValues = try a.band(band).read(Window(x: x0, y: y0, width: x1 - x0, height: y1 - y0), as: Double.self)
      let comparison = PixelComparison.of(oursValues, theirsValues)
      XCTAssertTrue(comparison.identical, "band \(band): \(comparison)", file: file, line: line)
      let all = try b.band(band).read(Window(x: 0, y: 0, width: b.width, height: b.height), as: Double.self)
      var beyond = 0
      for row in 0..<b.height {
        for column in 0..<b.width where all[row * b.width + column] != 0 {
          let x = column + dx, y = row + dy
          if x < x0 || x >= x1 || y < y0 || y >= y1 { beyond += 1 }
        }
      }
      XCTAssertEqual(beyond, 0, "band \(band): gdalwarp kept data outside our window", file: file, line: line)
    }
  }

  func testACutlineKeepsThePixelsWhoseCentreItCovers() throws {
    let ours = try clip(Fixture.rgbByte, "box.tif", .cutline(path: box, layer: nil, where: nil, crs: nil))
    try assertRasterizeOracle(ours, input: Fixture.rgbByte, vector: box, fill: 0)
    try assertGDALWarpAgrees(ours, Fixture.rgbByte, cutline: [box])
    let utm = try clip(Fixture.utmsmall, "utm.tif", .cutline(path: Fixture.path("gdal_autotest/cutline.vrt"), layer: nil, where: nil, crs: nil))
    try assertRasterizeOracle(utm, input: Fixture.utmsmall, vector: Fixture.path("gdal_autotest/cutline.vrt"), fill: 0)
    try assertGDALWarpAgrees(utm, Fixture.utmsmall, cutline: [Fixture.path("gdal_autotest/cutline.vrt")])
  }

  func testWhereLayerAndAllTouchedOnTheSentinel2Bands() throws {
    let one = try clip(s2, "fid1.tif", .cutline(path: reference, layer: "s2l1c_ref", where: "fid=1", crs: nil))
    try assertRasterizeOracle(one, input: s2, vector: reference, rasterizeArguments: ["-where", "fid=1"], fill: 0)
    try assertGDALWarpAgrees(one, s2, cutline: [reference, "-cwhere", "fid=1"])
    let touched = try clip(s2, "fid1-at.tif", .cutline(path: reference, layer: nil, where: "fid=1", crs: nil)) { $0.allTouched = true }
    try assertRasterizeOracle(touched, input: s2, vector: reference, rasterizeArguments: ["-where", "fid=1", "-at"], fill: 0)
    XCTAssertGreaterThan(try Dataset.open(touched).width, try Dataset.open(one).width - 1)
  }

  /// Every feature of a layer as one cutline: the 30 field polygons are joined (GDAL 3.6's
  /// cascaded union takes only a MultiPolygon; a collection of them used to fail).
  func testEveryFeatureOfALayerAsOneCutline() throws {
    let all = try clip(s2, "all.tif", .cutline(path: reference, layer: nil, where: nil, crs: nil))
    try assertRasterizeOracle(all, input: s2, vector: reference, fill: 0)
    try assertGDALWarpAgrees(all, s2, cutline: [reference])
    // A polygon and a multipolygon together: overlaps counted once.
    func square(_ x: Double, _ y: Double, _ side: Double) -> String {
      "((\(x) \(y), \(x + side) \(y), \(x + side) \(y + side), \(x) \(y + side), \(x) \(y)))"
    }
    let joined = try Geometry.union([
      Geometry.wkt("POLYGON " + square(0, 0, 3000)),
      Geometry.wkt("MULTIPOLYGON (" + square(2000, 0, 3000) + ", " + square(10000, 10000, 1000) + ")"),
    ])
    XCTAssertEqual(joined.area, 9e6 + 9e6 - 3e6 + 1e6, accuracy: 1e-3)
  }

  func testABoxIsWholeSourcePixelsAsGDALTranslateSrcwin() throws {
    // Snapped outward: x 200000..230000 is columns 326.7..426.7 of RGB.byte, y rows 323.005..422.99.
    let ours = try clip(Fixture.rgbByte, "bbox.tif", .bbox(Extent(minX: 200_000, minY: 2_700_000, maxX: 230_000, maxY: 2_730_000), crs: nil))
    try Oracle.tool("gdal_translate", ["-q", "-srcwin", "326", "323", "101", "100", Fixture.rgbByte, dir.file("srcwin.tif")])
    XCTAssertTrue(try PixelComparison.of(ours, dir.file("srcwin.tif")).identical)
    // A box on pixel edges is gdal_translate -projwin's.
    let gt = try XCTUnwrap(try Dataset.open(Fixture.rgbByte).geoTransform)
    let edges = [gt[0] + 100 * gt[1], gt[3] + 300 * gt[5], gt[0] + 250 * gt[1], gt[3] + 200 * gt[5]]
    let aligned = try clip(Fixture.rgbByte, "aligned.tif", .bbox(Extent(minX: edges[0], minY: edges[1], maxX: edges[2], maxY: edges[3]), crs: nil))
    try Oracle.tool("gdal_translate", ["-q", "-projwin", "\(edges[0])", "\(edges[3])", "\(edges[2])", "\(edges[1])", Fixture.rgbByte, dir.file("projwin.tif")])
    XCTAssertTrue(try PixelComparison.of(aligned, dir.file("projwin.tif")).identical)
    XCTAssertEqual(try Dataset.open(aligned).width, 150)
  }

  func testRegionsInAnotherCRS() throws {
    // A lon/lat box on a UTM raster covers the whole densified box.
    let lonLat = Extent(minX: -77.5, minY: 24.2, maxX: -77.3, maxY: 24.4)
    let ours = try clip(Fixture.rgbByte, "lonlat.tif", .bbox(lonLat, crs: "EPSG:4326"))
    let densified = try Oracle.transformBounds(["-77.5", "24.2", "-77.3", "24.4"], from: "EPSG:4326", to: "EPSG:32618").compactMap(Double.init)
    let e = try XCTUnwrap(try Dataset.open(ours).extent)
    XCTAssertLessThanOrEqual(e.minX, densified[0]); XCTAssertLessThanOrEqual(e.minY, densified[1])
    XCTAssertGreaterThanOrEqual(e.maxX, densified[2]); XCTAssertGreaterThanOrEqual(e.maxY, densified[3])
    // A GeoJSON cutline in EPSG:4326: the same as the file reprojected by ogr2ogr (segmentized alike).
    let geojson = dir.file("region.geojson")
    try Data(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-77.6,24.1],[-77.2,24.15],[-77.35,24.5],[-77.6,24.1]]]}}]}"#.utf8)
      .write(to: URL(fileURLWithPath: geojson))
    let fromFile = try clip(Fixture.rgbByte, "geojson.tif", .cutline(path: geojson, layer: nil, where: nil, crs: nil))
    let step = String(0.4 / 100)
    try Oracle.tool("ogr2ogr", ["-q", "-segmentize", step, "-t_srs", "EPSG:32618", dir.file("region-utm.geojson"), geojson])
    try assertRasterizeOracle(fromFile, input: Fixture.rgbByte, vector: dir.file("region-utm.geojson"), fill: 0)
    // Typed, the same region gives the same file.
    let typed = try clip(Fixture.rgbByte, "typed.tif", .geometry(try String(contentsOfFile: geojson, encoding: .utf8), crs: "EPSG:4326"))
    XCTAssertTrue(try PixelComparison.of(typed, fromFile).identical)
  }

  func testLikeNoCropAlphaAndNodata() throws {
    let like = try clip(Fixture.rgbByte, "like.tif", .like(Fixture.path("rasterio/rgb4.tif")))
    XCTAssertTrue(try PixelComparison.of(like, Fixture.path("rasterio/rgb4.tif")).identical)
    let whole = try clip(Fixture.rgbByte, "nocrop.tif", .cutline(path: box, layer: nil, where: nil, crs: nil)) { $0.crop = false }
    XCTAssertEqual(try Dataset.open(whole).width, 791)
    try assertRasterizeOracle(whole, input: Fixture.rgbByte, vector: box, fill: 0)
    let alpha = try clip(Fixture.rgbByte, "alpha.tif", .cutline(path: box, layer: nil, where: nil, crs: nil)) { $0.addAlpha = true }
    XCTAssertEqual(try Dataset.open(alpha).bandCount, 4)
    XCTAssertEqual(try Dataset.open(alpha).band(4).colorInterpretation, "Alpha")
    try assertRasterizeOracle(alpha, input: Fixture.rgbByte, vector: box, fill: 0, alpha: true)
    // No nodata in the source: 0 outside, declared.
    let plain = try clip(Fixture.utmsmall, "plain.tif", .cutline(path: Fixture.path("gdal_autotest/cutline.vrt"), layer: nil, where: nil, crs: nil))
    XCTAssertEqual(try Dataset.open(plain).band(1).noDataValue, 0)
    let nine = try clip(Fixture.utmsmall, "nine.tif", .cutline(path: Fixture.path("gdal_autotest/cutline.vrt"), layer: nil, where: nil, crs: nil)) {
      $0.dstNodata = .value(9)
    }
    XCTAssertEqual(try Dataset.open(nine).band(1).noDataValue, 9)
    try assertRasterizeOracle(nine, input: Fixture.utmsmall, vector: Fixture.path("gdal_autotest/cutline.vrt"), fill: 9)
  }

  func testARegionPastTheRasterIsCutOrPadded() throws {
    let gt = try XCTUnwrap(try Dataset.open(Fixture.utmsmall).geoTransform)
    let reaching = Extent(minX: gt[0] - 600, minY: gt[3] - 1200, maxX: gt[0] + 600, maxY: gt[3] + 600)
    var request = ClipRequest(input: Fixture.utmsmall, output: OutputSpec(path: dir.file("cut.tif")), region: .bbox(reaching, crs: nil))
    let report = try Clip.run(request)
    XCTAssertEqual(report.warnings.count, 1)
    XCTAssertEqual(try Dataset.open(dir.file("cut.tif")).width, 10)
    request.output = OutputSpec(path: dir.file("padded.tif"))
    request.allowOutside = true
    _ = try Clip.run(request)
    let padded = try Dataset.open(dir.file("padded.tif"))
    XCTAssertEqual([padded.width, padded.height], [20, 30])
    XCTAssertEqual(padded.geoTransform?[0], gt[0] - 600)
    let values = try padded.band(1).read(Window(x: 0, y: 0, width: 20, height: 30), as: UInt8.self)
    XCTAssertEqual(values[0], 0, "padding is nodata")
  }

  func testEachFeatureWritesOneFilePerFeatureAllOrNothing() throws {
    let folder = dir.file("fields")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var request = ClipRequest(input: s2, output: OutputSpec(path: folder), region: .cutline(path: reference, layer: nil, where: "fid <= 5", crs: nil))
    let report = try Clip.eachFeature(request, nameField: "pid")
    XCTAssertEqual(report.outputs.count, 5)
    for fid in 1...5 {
      guard case .array(let features)? = JSONValue.object(report.details)["features"],
        let entry = features.first(where: { $0["id"] == .int(fid) }), case .string(let path)? = entry["path"] else { return XCTFail("feature \(fid)") }
      let single = try clip(s2, "single-\(fid).tif", .cutline(path: reference, layer: nil, where: "fid=\(fid)", crs: nil))
      XCTAssertTrue(try PixelComparison.of(path, single).identical, "feature \(fid)")
    }
    // A file in the way: nothing of the batch is written.
    let again = dir.file("again")
    try FileManager.default.createDirectory(atPath: again, withIntermediateDirectories: true)
    request.output = OutputSpec(path: again)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    try Data("x".utf8).write(to: URL(fileURLWithPath: again + "/" + names[2]))
    XCTAssertThrowsError(try Clip.eachFeature(request, nameField: "pid")) { XCTAssertEqual(TesseraError.from($0).status, .cannotCreate) }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: again), [names[2]])
    XCTAssertEqual(Clip.safeFileName("../a/b:c*?\u{1}"), "_a_b_c___")
  }

  /// Names that could collide after suffixing never do, and a name shows no control or
  /// bidirectional characters (U+0085, U+202E would make `r<RLO>fdp.exe` read `rexe.pdf`).
  func testEachFeatureNamesAreSafeAndDistinct() {
    XCTAssertEqual(Clip.fileNames([(0, "x"), (1, "x-2"), (2, "x")]), ["x", "x-2", "x-2-2"])
    XCTAssertEqual(Clip.fileNames([(1, "x"), (2, "x"), (3, "x-2"), (4, "")]), ["x", "x-2-2", "x-2", "4"])
    XCTAssertEqual(Clip.fileNames([(1, "3"), (3, "")]), ["3", "3-3"])
    for names in [[(0, "a"), (1, "a"), (2, "a-1"), (3, "a"), (4, "a-3")], [(5, ""), (6, "5"), (7, "5-6")]] {
      let made = Clip.fileNames(names)
      XCTAssertEqual(Set(made).count, names.count, "\(made)")
    }
    XCTAssertEqual(Clip.safeFileName("a\u{85}b"), "a_b")
    XCTAssertEqual(Clip.safeFileName("r\u{202E}fdp.exe"), "r_fdp.exe")
    XCTAssertEqual(Clip.safeFileName("l\u{200E}\u{200F}\u{2066}\u{2069}\u{2028}z"), "l_____z")
    XCTAssertEqual(Clip.safeFileName("北京 café"), "北京 café")
  }

  func testBadRegions() throws {
    func status(_ region: ClipRequest.Region, makeValid: Bool = false) -> ExitStatus? {
      var request = ClipRequest(input: Fixture.rgbByte, output: OutputSpec(path: dir.file("bad.tif")), region: region)
      request.makeValid = makeValid
      defer { try? FileManager.default.removeItem(atPath: dir.file("bad.tif")) }
      do { _ = try Clip.run(request); return .ok } catch {
        XCTAssertEqual(dir.contents.filter { $0.hasPrefix(".") || $0 == "bad.tif" }, [], "nothing written")
        return TesseraError.from(error).status
      }
    }
    let bowtie = "POLYGON((200000 2700000, 230000 2730000, 230000 2700000, 200000 2730000, 200000 2700000))"
    XCTAssertEqual(status(.geometry(bowtie, crs: nil)), .dataError)
    XCTAssertEqual(status(.geometry(bowtie, crs: nil), makeValid: true), .ok)
    XCTAssertEqual(status(.geometry("POLYGON EMPTY", crs: nil)), .dataError)
    XCTAssertEqual(status(.geometry("not wkt", crs: nil)), .usage, "text that is no geometry is a bad option")
    XCTAssertEqual(status(.geometry("POLYGON((0 0, 1 0, 1 1, 0 0))", crs: nil)), .dataError, "misses the raster")
    XCTAssertEqual(status(.cutline(path: box, layer: "nope", where: nil, crs: nil)), .usage)
    XCTAssertEqual(status(.cutline(path: box, layer: nil, where: "FID > 99", crs: nil)), .dataError)
    XCTAssertEqual(status(.cutline(path: dir.file("none.shp"), layer: nil, where: nil, crs: nil)), .noInput)
    XCTAssertEqual(status(.cutline(path: Fixture.utmsmall, layer: nil, where: nil, crs: nil)), .dataError, "not vector data")
    // A Shapefile's sidecars are read too: no output replaces one, even with --overwrite.
    let folder = dir.file("vector")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] { try FileManager.default.copyItem(atPath: Fixture.path("rasterio/box.\(ext)"), toPath: folder + "/box.\(ext)") }
    let dbf = try Data(contentsOf: URL(fileURLWithPath: folder + "/box.dbf"))
    var onSidecar = ClipRequest(input: Fixture.rgbByte, output: OutputSpec(path: folder + "/box.dbf", overwrite: true),
                                region: .cutline(path: folder + "/box.shp", layer: nil, where: nil, crs: nil))
    XCTAssertThrowsError(try Clip.run(onSidecar)) { XCTAssertEqual(TesseraError.from($0).status, .usage) }
    onSidecar.output = OutputSpec(path: folder + "/box.shx", overwrite: true)
    XCTAssertThrowsError(try Clip.run(onSidecar)) { XCTAssertEqual(TesseraError.from($0).status, .usage) }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/box.dbf")), dbf)
    // A CSV of WKT has no CRS: refused until --geometry-crs says which.
    let csv = Fixture.path("gdal_autotest/cutline.csv")
    var noCRS = ClipRequest(input: Fixture.utmsmall, output: OutputSpec(path: dir.file("bad.tif")), region: .cutline(path: csv, layer: nil, where: nil, crs: nil))
    XCTAssertThrowsError(try Clip.run(noCRS)) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .dataError)
      XCTAssertTrue(e.message.contains("has no CRS") && e.message.contains("--geometry-crs"), e.message)
    }
    noCRS.region = .cutline(path: csv, layer: nil, where: nil, crs: "EPSG:26711")
    _ = try Clip.run(noCRS)
    try assertRasterizeOracle(dir.file("bad.tif"), input: Fixture.utmsmall, vector: Fixture.path("gdal_autotest/cutline.vrt"), fill: 0)
  }
}

// MARK: - GeoJSON is longitude/latitude

extension ClipTests {
  /// A region drawn in lon/lat on the UTM scene of RGB.byte.tif.
  var drawn: String {
    #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-78.2,24.3],[-77.6,24.2],[-77.5,24.9],[-78.1,25.0],[-78.2,24.3]]]}}]}"#
  }

  func write(_ text: String, _ name: String) throws -> String {
    try Data(text.utf8).write(to: URL(fileURLWithPath: dir.file(name)))
    return dir.file(name)
  }

  func message(_ region: ClipRequest.Region, _ input: String = Fixture.rgbByte) -> TesseraError? {
    let request = ClipRequest(input: input, output: OutputSpec(path: dir.file("miss.tif")), region: region)
    do { _ = try Clip.run(request); return nil } catch { return TesseraError.from(error) }
  }

  func testGeoJSONWithoutACRSIsLonLatAsGDALWarpReadsIt() throws {
    let file = try write(drawn, "drawn.geojson")
    let typed = try clip(Fixture.rgbByte, "typed.tif", .geometry(drawn, crs: nil))
    try assertGDALWarpAgrees(typed, Fixture.rgbByte, cutline: [file])
    // A .geojson cutline file without a crs member is EPSG:4326 too (GDAL's GeoJSON driver says so).
    let fromFile = try clip(Fixture.rgbByte, "file.tif", .cutline(path: file, layer: nil, where: nil, crs: nil))
    XCTAssertTrue(try PixelComparison.of(typed, fromFile).identical)
    // A bare geometry and a Feature read the same way.
    let feature = #"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-78.2,24.3],[-77.6,24.2],[-77.5,24.9],[-78.1,25.0],[-78.2,24.3]]]}}"#
    XCTAssertTrue(try PixelComparison.of(try clip(Fixture.rgbByte, "feature.tif", .geometry(feature, crs: nil)), typed).identical)
  }

  func testALegacyCRSMemberAndGeometryCRSAreHonoured() throws {
    // The drawn region in Web Mercator, written by ogr2ogr with a legacy crs member.
    let lonLat = try write(drawn, "drawn.geojson"), mercator = dir.file("mercator.geojson")
    try Oracle.tool("ogr2ogr", ["-q", "-t_srs", "EPSG:3857", "-lco", "RFC7946=NO", mercator, lonLat])
    let text = try String(contentsOfFile: mercator, encoding: .utf8)
    XCTAssertTrue(text.contains("\"crs\""), "ogr2ogr wrote a crs member: \(text)")
    let typed = try clip(Fixture.rgbByte, "mercator.tif", .geometry(text, crs: nil))
    try assertGDALWarpAgrees(typed, Fixture.rgbByte, cutline: [mercator])
    // The 2008 form of the member, {"type": "EPSG", "properties": {"code": N}}.
    let utmText = #"{"type":"Polygon","crs":{"type":"EPSG","properties":{"code":32618}},"coordinates":[[[200000,2700000],[230000,2700000],[215000,2730000],[200000,2700000]]]}"#
    let wkt = "POLYGON((200000 2700000, 230000 2700000, 215000 2730000, 200000 2700000))"
    let fromWKT = try clip(Fixture.rgbByte, "wkt.tif", .geometry(wkt, crs: nil))
    XCTAssertTrue(try PixelComparison.of(try clip(Fixture.rgbByte, "epsg.tif", .geometry(utmText, crs: nil)), fromWKT).identical)
    // --geometry-crs overrides the default and any crs member.
    let plainUTM = #"{"type":"Polygon","coordinates":[[[200000,2700000],[230000,2700000],[215000,2730000],[200000,2700000]]]}"#
    XCTAssertTrue(try PixelComparison.of(try clip(Fixture.rgbByte, "override.tif", .geometry(plainUTM, crs: "EPSG:32618")), fromWKT).identical)
    let wrongMember = text.replacingOccurrences(of: "3857", with: "32618")
    XCTAssertTrue(try PixelComparison.of(try clip(Fixture.rgbByte, "override2.tif", .geometry(wrongMember, crs: "EPSG:3857")), typed).identical)
    // WKT in lon/lat with --geometry-crs EPSG:4326 is the GeoJSON's region.
    let lonLatWKT = "POLYGON((-78.2 24.3, -77.6 24.2, -77.5 24.9, -78.1 25.0, -78.2 24.3))"
    let drawnTyped = try clip(Fixture.rgbByte, "drawn.tif", .geometry(drawn, crs: nil))
    XCTAssertTrue(try PixelComparison.of(try clip(Fixture.rgbByte, "wkt4326.tif", .geometry(lonLatWKT, crs: "EPSG:4326")), drawnTyped).identical)
    // An unknown crs member is a bad option.
    let unknown = #"{"type":"Polygon","crs":{"type":"name","properties":{"name":"EPSG:999999"}},"coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#
    XCTAssertEqual(message(.geometry(unknown, crs: nil))?.status, .usage)
  }

  func testANearMissSaysWhichCRSWouldHit() throws {
    let lonLatBox = Extent(minX: -78.2, minY: 24.3, maxX: -77.6, maxY: 24.9)
    let box = try XCTUnwrap(message(.bbox(lonLatBox, crs: nil)))
    XCTAssertEqual(box.status, .dataError)
    XCTAssertTrue(box.message.contains("did you mean --bbox-crs EPSG:4326?"), box.message)
    let wkt = try XCTUnwrap(message(.geometry("POLYGON((-78.2 24.3, -77.6 24.2, -77.5 24.9, -78.2 24.3))", crs: nil)))
    XCTAssertEqual(wkt.status, .dataError)
    XCTAssertTrue(wkt.message.contains("did you mean --geometry-crs EPSG:4326?"), wkt.message)
    // The other way round: metres read as longitude/latitude.
    let metres = #"{"type":"Polygon","coordinates":[[[200000,2700000],[230000,2700000],[215000,2730000],[200000,2700000]]]}"#
    let geojson = try XCTUnwrap(message(.geometry(metres, crs: nil)))
    XCTAssertEqual(geojson.status, .dataError)
    XCTAssertTrue(geojson.message.contains("did you mean --geometry-crs EPSG:32618?"), geojson.message)
    let metreBox = try XCTUnwrap(message(.bbox(Extent(minX: 200000, minY: 2700000, maxX: 230000, maxY: 2730000), crs: "EPSG:4326")))
    XCTAssertTrue(metreBox.message.contains("did you mean --bbox-crs EPSG:32618?"), metreBox.message)
    // A true miss has no hint.
    let far = try XCTUnwrap(message(.bbox(Extent(minX: 10, minY: 10, maxX: 11, maxY: 11), crs: nil)))
    XCTAssertFalse(far.message.contains("did you mean"), far.message)
    // The warping commands' --bbox check says it too.
    var reproject = ReprojectRequest(input: Fixture.rgbByte, output: OutputSpec(path: dir.file("r.tif")), dstCRS: "EPSG:32618")
    reproject.bbox = lonLatBox
    XCTAssertThrowsError(try Reproject.run(reproject)) { error in
      XCTAssertTrue(TesseraError.from(error).message.contains("did you mean --bbox-crs EPSG:4326?"), "\(error)")
    }
  }

  func testAFileGivenToGeometryIsAUsageErrorNamingCutline() throws {
    let file = try write(drawn, "drawn.geojson")
    let error = try XCTUnwrap(message(.geometry(file, crs: nil)))
    XCTAssertEqual(error.status, .usage)
    XCTAssertTrue(error.message.contains("--cutline"), error.message)
    let missing = try XCTUnwrap(message(.geometry(dir.file("nope.geojson"), crs: nil)))
    XCTAssertEqual(missing.status, .usage)
    XCTAssertTrue(missing.message.contains("--cutline"), missing.message)
  }

  func testAGEOSFailureIsTheCommandsErrorNotNoOverlap() throws {
    // A ring that does not close: GEOS cannot repair it, and says why.
    var request = ClipRequest(input: Fixture.rgbByte, output: OutputSpec(path: dir.file("g.tif")),
                              region: .geometry("POLYGON((200000 2700000, 230000 2700000, 215000 2730000, 200000 2710000))", crs: nil))
    request.makeValid = true
    XCTAssertThrowsError(try Clip.run(request)) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .dataError)
      XCTAssertTrue(e.message.contains("closed linestring") && !e.message.contains("does not intersect"), e.message)
    }
    // The overlap test of a region GEOS cannot read throws instead of answering "no".
    let grid = try XCTUnwrap(Grid(of: try Dataset.open(Fixture.rgbByte)))
    let open = try Geometry.wkt("POLYGON((200000 2700000, 230000 2700000, 215000 2730000, 200000 2710000))")
    let region = ClipRegion(shape: open, envelope: open.envelope, crs: grid.srs, featureCount: 1, given: open.envelope, crsOption: nil)
    XCTAssertThrowsError(try region.overlaps(grid))
  }
}
