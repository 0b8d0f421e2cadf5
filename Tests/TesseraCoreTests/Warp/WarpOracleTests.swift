import Foundation
import GDAL
import TestSupport
import XCTest

@testable import TesseraCore

/// reproject and resample against gdalwarp with the same options on the real fixtures.
final class WarpOracleTests: TemporaryDirectoryTestCase {

  /// gdalwarp with the options Tessera uses for speed; they do not change pixels.
  func gdalwarp(_ input: String, _ output: String, _ args: [String]) throws {
    try Oracle.tool("gdalwarp", ["-q", "-multi", "-wo", "NUM_THREADS=2"] + args + [input, output])
  }

  func reproject(_ input: String, _ crs: String, resampling: Resampling = .nearest, name: String,
                 configure: (inout ReprojectRequest) -> Void = { _ in }) throws -> String {
    var request = ReprojectRequest(input: input, output: OutputSpec(path: dir.file(name)), dstCRS: crs, resources: Resources(threads: 2))
    request.resampling = resampling
    configure(&request)
    _ = try Reproject.run(request)
    return request.output.path
  }

  func assertIdentical(_ ours: String, _ theirs: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let comparison = try PixelComparison.of(ours, theirs)
    XCTAssertTrue(comparison.identical, "\(ours) vs \(theirs): \(comparison)", file: file, line: line)
  }

  func testRGBByteToWGS84AndCGCS2000() throws {
    for (alias, epsg) in [("EPSG:4326", 4326), ("cgcs2000", 4490)] {
      let ours = try reproject(Fixture.rgbByte, alias, name: "rgb-\(epsg).tif")
      try gdalwarp(Fixture.rgbByte, dir.file("rgb-\(epsg)-gdal.tif"), ["-t_srs", "EPSG:\(epsg)"])
      try assertIdentical(ours, dir.file("rgb-\(epsg)-gdal.tif"))
      XCTAssertEqual(try Dataset.open(ours).spatialReference?.epsg, epsg)
    }
  }

  func testUTMSmallToWebMercator() throws {
    let ours = try reproject(Fixture.utmsmall, "webmercator", resampling: .bilinear, name: "u.tif")
    try gdalwarp(Fixture.utmsmall, dir.file("u-gdal.tif"), ["-t_srs", "EPSG:3857", "-r", "bilinear"])
    try assertIdentical(ours, dir.file("u-gdal.tif"))
  }

  func testN43ToItsUTMZone() throws {
    // n43 covers 80°W-79°W, 43°N-44°N: UTM zone 17 north.
    let ours = try reproject(Fixture.n43, "utm", resampling: .cubic, name: "n43.tif")
    XCTAssertEqual(try Dataset.open(ours).spatialReference?.epsg, 32617)
    try gdalwarp(Fixture.n43, dir.file("n43-gdal.tif"), ["-t_srs", "EPSG:32617", "-r", "cubic"])
    try assertIdentical(ours, dir.file("n43-gdal.tif"))
  }

  func testEveryAlias() throws {
    let expected = ["wgs84": 4326, "cgcs2000": 4490, "xian1980": 4610, "beijing1954": 4214, "webmercator": 3857, "utm": 26711 % 100 + 32600]
    for (alias, epsg) in expected.sorted(by: { $0.key < $1.key }) {
      let ours = try reproject(Fixture.utmsmall, alias, name: "alias-\(alias).tif")
      XCTAssertEqual(try Dataset.open(ours).spatialReference?.epsg, epsg, alias)
      try gdalwarp(Fixture.utmsmall, dir.file("alias-\(alias)-gdal.tif"), ["-t_srs", "EPSG:\(epsg)"])
      try assertIdentical(ours, dir.file("alias-\(alias)-gdal.tif"))
    }
  }

  func testEveryResamplingName() throws {
    for method in Resampling.allCases {
      var request = ResampleRequest(input: Fixture.utmsmall, output: OutputSpec(path: dir.file("r-\(method.rawValue).tif")),
                                    target: .resolution(x: 140, y: 140), resources: Resources(threads: 2))
      request.resampling = method
      _ = try Resample.run(request)
      try gdalwarp(Fixture.utmsmall, dir.file("r-\(method.rawValue)-gdal.tif"), ["-tr", "140", "140", "-r", method.gdalName])
      try assertIdentical(request.output.path, dir.file("r-\(method.rawValue)-gdal.tif"))
    }
    XCTAssertEqual(Resampling(name: "near"), .nearest)
    XCTAssertEqual(Resampling(name: "cubic_spline"), .cubicspline)
    XCTAssertEqual(Resampling(name: "NEAREST"), .nearest)
    XCTAssertNil(Resampling(name: "gauss-ish"))
  }

  func testSentinel2BandResampledFrom10To20MetresWithAverage() throws {
    var request = ResampleRequest(input: Fixture.s2Band, output: OutputSpec(path: dir.file("s2.tif")), target: .resolution(x: 20, y: 20),
                                  resources: Resources(threads: 2))
    request.resampling = .average
    _ = try Resample.run(request)
    try gdalwarp(Fixture.s2Band, dir.file("s2-gdal.tif"), ["-tr", "20", "20", "-r", "average"])
    try assertIdentical(request.output.path, dir.file("s2-gdal.tif"))
    let out = try Dataset.open(request.output.path)
    XCTAssertEqual(out.width, 768)
    XCTAssertEqual(out.height, 384)
  }

  /// Whole-factor downsampling with average or mode goes through RasterIO resampling on every
  /// thread; it must give gdalwarp's pixels exactly, nodata included.
  func t01ubt(_ band: String) -> String {
    Fixture.path("sentinel2/S2B_MSIL2A_20230122T231849_N0400_R087_T01UBT_20230124T042703.SAFE/GRANULE/L2A_T01UBT_A030715_20230122T231921/IMG_DATA/R20m/T01UBT_20230122T231849_\(band)_20m.tif")
  }

  func testBlockDecimationEqualsGDALWarp() throws {
    let rgb = (x: 300.0379266750948, y: 300.041782729805)
    let cases: [(String, (Double, Double), Resampling, Bool)] = [
      (Fixture.path("rasterio/rgb1.tif"), (rgb.x * 2, rgb.y * 2), .average, false),  // fractional pixel size: warper
      (Fixture.rgbByte, (rgb.x * 2, rgb.y * 2), .average, false),      // and 791 px rounds up to 396
      (Fixture.path("gdal_autotest/nodata_byte.tif"), (120, 120), .average, false),  // factor 2: even footprint, warper
      (Fixture.path("gdal_autotest/nodata_byte.tif"), (180, 180), .average, false),  // 20 px rounds up to 7: warper
      (Fixture.path("gdal_autotest/nodata_byte.tif"), (300, 300), .average, true),   // factor 5, nodata 0
      (Fixture.n43, (0.025, 0.025), .average, false),                   // fractional degrees: warper
      (Fixture.float32, (120, 120), .average, false),                   // floats: warper
      (Fixture.path("gdal_autotest/int16.tif"), (120, 120), .average, false),
      (Fixture.path("gdal_autotest/int16.tif"), (300, 300), .average, true),
      (Fixture.path("gdal_autotest/int16.tif"), (180, 180), .average, false),   // 20 px rounds up to 7: warper
      (Fixture.path("gdal_autotest/uint16.tif"), (120, 120), .mode, false),  // mode: warper
      (Fixture.utmsmall, (180, 180), .average, true),                   // 100 px into 33: the last pixel dropped
      (Fixture.utmsmall, (120, 120), .average, false),
      (Fixture.s2Band, (20, 20), .average, false),                      // Sentinel-2 10 m to 20 m: even
      (Fixture.s2Band, (30, 30), .average, true),                       // 10 m to 30 m
      (t01ubt("B06"), (2196, 2196), .average, false),                   // ties: the warper rounds them down
      (t01ubt("B06"), (3294, 3294), .average, true),
      (t01ubt("SCL"), (3294, 3294), .mode, false),
      (Fixture.rgbByte, (rgb.x * 3, rgb.y * 3), .average, false),      // 791 px rounds up to 264: warper
      (Fixture.utmsmall, (140, 140), .average, false),                  // not a whole factor: warper
      (Fixture.utmsmall, (180, 180), .bilinear, false),                 // not an exact method: warper
      // JPEG 2000 resolution levels: gdalwarp reads the 1/4 level, so the warper does too.
      (Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE/GRANULE/L2A_T29UNU_A038058_20221005T115407/IMG_DATA/R60m/T29UNU_20221005T115411_B8A_60m.jp2"),
       (420, 420), .average, false),
    ]
    for (i, (input, resolution, method, fast)) in cases.enumerated() {
      var request = ResampleRequest(input: input, output: OutputSpec(path: dir.file("d\(i).tif")), target: .resolution(x: resolution.0, y: resolution.1),
                                    resources: Resources(threads: 2))
      request.resampling = method
      let source = try Dataset.open(input)
      let args = ["-r", method.gdalName, "-tr", "\(resolution.0)", "\(resolution.1)"]
      XCTAssertEqual(try Resample.decimationGrid(request, source, warpArguments: args) != nil, fast, "case \(i) took the wrong path")
      _ = try Resample.run(request)
      try gdalwarp(input, dir.file("d\(i)-gdal.tif"), args)
      try assertIdentical(request.output.path, dir.file("d\(i)-gdal.tif"))
    }
  }

  /// With a nodata value but no nodata pixel, the warp runs without masks; it must still give
  /// gdalwarp's pixels, and the path must be taken exactly when the data allows it.
  func testMasklessWarpEqualsGDALWarp() throws {
    // byte.tif spans 74..255; nodata 0 lies outside and no pixel has it.
    let clean = dir.file("clean.tif"), inside = dir.file("inside.tif"), multi = dir.file("multi.tif")
    try Oracle.tool("gdal_translate", ["-q", "-a_nodata", "0", Fixture.path("gdal_autotest/byte.tif"), clean])
    try Oracle.tool("gdal_translate", ["-q", "-a_nodata", "100", Fixture.path("gdal_autotest/byte.tif"), inside])
    try Oracle.tool("gdal_translate", ["-q", "-b", "1", "-b", "1", "-a_nodata", "0", Fixture.path("gdal_autotest/byte.tif"), multi])
    let overviews = dir.file("overviews.tif")
    try Oracle.tool("gdal_translate", ["-q", "-a_nodata", "0", Fixture.path("gdal_autotest/byte.tif"), overviews])
    try Oracle.tool("gdaladdo", ["-q", "-r", "average", overviews, "2"])
    let cases: [(String, Resampling, Bool)] = [
      (clean, .bilinear, true), (clean, .nearest, true), (clean, .average, true), (clean, .mode, true),
      (clean, .cubic, false),          // cubic can overshoot onto the nodata value
      (inside, .bilinear, false),      // nodata inside the data's range
      (multi, .bilinear, true),
      (Fixture.rgbByte, .bilinear, false),   // has nodata pixels
      (Fixture.n43, .bilinear, true),        // declares -32767, no pixel has it (75..460)
      (overviews, .bilinear, false),         // the scan reads full resolution, gdalwarp may read an overview
    ]
    for (i, (input, method, maskless)) in cases.enumerated() {
      let source = try Dataset.open(input)
      var job = WarpJob(sources: [source], output: OutputSpec(path: dir.file("m\(i).tif")), resources: Resources(threads: 2),
                        arguments: ["-t_srs", "EPSG:4326", "-r", method.gdalName], outputType: try source.band(1).dataType)
      job.resampling = method
      XCTAssertEqual(try job.masklessArguments() != nil, maskless, "case \(i)")
      try job.run(progress: nil)
      try gdalwarp(input, dir.file("m\(i)-gdal.tif"), ["-t_srs", "EPSG:4326", "-r", method.gdalName])
      try assertIdentical(job.output.path, dir.file("m\(i)-gdal.tif"))
      XCTAssertEqual(try Dataset.open(job.output.path).band(1).noDataValue, try source.band(1).noDataValue)
    }
  }

  func testScaleAndSizeAndTargetAlignedPixels() throws {
    var half = ResampleRequest(input: Fixture.utmsmall, output: OutputSpec(path: dir.file("half.tif")), target: .size(OutputDimensions(width: .percent(50), height: .percent(50))))
    half.resampling = .average
    _ = try Resample.run(half)
    try gdalwarp(Fixture.utmsmall, dir.file("half-gdal.tif"), ["-ts", "50", "50", "-r", "average"])
    try assertIdentical(half.output.path, dir.file("half-gdal.tif"))

    var aligned = ResampleRequest(input: Fixture.utmsmall, output: OutputSpec(path: dir.file("tap.tif")), target: .resolution(x: 250, y: 250))
    aligned.targetAlignedPixels = true
    _ = try Resample.run(aligned)
    try gdalwarp(Fixture.utmsmall, dir.file("tap-gdal.tif"), ["-tr", "250", "250", "-tap"])
    try assertIdentical(aligned.output.path, dir.file("tap-gdal.tif"))
    let gt = try Dataset.open(aligned.output.path).geoTransform!
    XCTAssertEqual(gt[0].truncatingRemainder(dividingBy: 250), 0)
  }

  func testBBoxInAnotherCRSAndNodata() throws {
    let ours = try reproject(Fixture.rgbByte, "EPSG:4326", name: "bbox.tif") { r in
      r.bbox = Extent(minX: -78.5, minY: 24, maxX: -77.5, maxY: 25)
      r.resolution = (0.01, 0.01)
      r.dstNodata = .value(7)
    }
    try gdalwarp(Fixture.rgbByte, dir.file("bbox-gdal.tif"), ["-t_srs", "EPSG:4326", "-te", "-78.5", "24", "-77.5", "25", "-tr", "0.01", "0.01", "-dstnodata", "7"])
    try assertIdentical(ours, dir.file("bbox-gdal.tif"))
    XCTAssertEqual(try Dataset.open(ours).band(1).noDataValue, 7)

    let utmBox = try reproject(Fixture.rgbByte, "EPSG:4326", name: "bbox-utm.tif") { r in
      r.bbox = Extent(minX: 150000, minY: 2650000, maxX: 250000, maxY: 2750000)
      r.bboxCRS = "EPSG:32618"
    }
    let densified = try Oracle.transformBounds(["150000", "2650000", "250000", "2750000"], from: "EPSG:32618", to: "EPSG:4326")
    try gdalwarp(Fixture.rgbByte, dir.file("bbox-utm-gdal.tif"), ["-t_srs", "EPSG:4326", "-te"] + densified)
    try assertIdentical(utmBox, dir.file("bbox-utm-gdal.tif"))
  }

  func testBadInputs() throws {
    XCTAssertThrowsError(try reproject(Fixture.rgbByte, "EPSG:4326", name: "none.tif") { r in
      r.bbox = Extent(minX: 10, minY: 10, maxX: 11, maxY: 11)
    }) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .dataError)
      XCTAssertTrue("\(error)".contains("does not overlap"), "\(error)")
    }
    XCTAssertThrowsError(try reproject(Fixture.rgbByte, "EPSG:999999", name: "bad.tif")) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .usage)
      XCTAssertTrue("\(error)".contains("EPSG:999999"), "\(error)")
    }
    XCTAssertEqual(dir.contents, [], "a failed run left files behind")
  }

  func testUTMZoneRule() {
    XCTAssertEqual(CRSInput.utmEPSG(lon: -79.5, lat: 43.5), 32617)
    XCTAssertEqual(CRSInput.utmEPSG(lon: 151.2, lat: -33.9), 32756)
    XCTAssertEqual(CRSInput.utmEPSG(lon: 5, lat: 60), 32632, "south-west Norway is zone 32")
    XCTAssertEqual(CRSInput.utmEPSG(lon: 15, lat: 78), 32633, "Svalbard")
    XCTAssertEqual(CRSInput.utmEPSG(lon: 180, lat: 10), 32601)
  }
}
