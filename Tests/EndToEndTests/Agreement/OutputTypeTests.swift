import Foundation
import TestSupport
import XCTest

/// `--ot` on every command that writes a raster (issue 26): pixels equal to `gdal_translate -ot`
/// or `gdalwarp -ot` on the same job, and the clamped pixels counted as numpy counts them in the
/// result of the same job without `--ot`.
final class OutputTypeTests: TemporaryDirectoryTestCase {
  /// A Float32 raster, 40 x 30 in UTM 33N at 10 m: values from -40000 to 40000 (outside Byte,
  /// Int16 and UInt16), the .5 ties of the rounding rule, a NaN, and nodata -9999.
  static let makeSource = """
    import sys
    import numpy as np
    from osgeo import gdal, osr
    d = gdal.GetDriverByName('GTiff').Create(sys.argv[1], 40, 30, 1, gdal.GDT_Float32)
    d.SetGeoTransform([500000, 10, 0, 4000000, 0, -10])
    s = osr.SpatialReference(); s.ImportFromEPSG(32633); d.SetProjection(s.ExportToWkt())
    a = (np.random.default_rng(7).random((30, 40)) * 80000 - 40000).astype(np.float32)
    a[0, :8] = [0.5, 1.5, 2.5, -0.5, -1.5, 254.5, 255.5, np.nan]
    a[1, :4] = [-9999, -9999, 3.5, -2.5]
    a[5:8, 5:12] = np.float32(120.5)
    d.GetRasterBand(1).WriteArray(a); d.GetRasterBand(1).SetNoDataValue(-9999)
    d = None
    print(0)
    """

  /// The pixels of argv[1] (every band) that argv[2] cannot hold, nodata skipped: what the
  /// report's clamped_pixels counts.
  static let countClamped = """
    import sys, json
    import numpy as np
    from osgeo import gdal
    ranges = {'Byte': (0, 255), 'UInt16': (0, 65535), 'Int16': (-32768, 32767), 'UInt32': (0, 4294967295), 'Int32': (-2147483648, 2147483647)}
    ds = gdal.Open(sys.argv[1]); lo, hi = ranges.get(sys.argv[2], (None, None)); n = 0
    for i in range(ds.RasterCount):
        b = ds.GetRasterBand(i + 1); v = b.ReadAsArray().astype(np.float64); nd = b.GetNoDataValue()
        keep = np.ones(v.shape, bool) if nd is None else ~((v == nd) | (np.isnan(v) & np.isnan(nd)))
        if lo is None: continue
        r = np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5))
        n += int((keep & (np.isnan(v) | (r < lo) | (r > hi))).sum())
    print(json.dumps(n))
    """

  struct ScriptFailure: Error { let message: String }

  var source = ""

  override func setUpWithError() throws {
    try super.setUpWithError()
    source = dir.file("src.tif")
    try run(Self.makeSource, [source])
  }

  @discardableResult
  func run(_ script: String, _ arguments: [String]) throws -> Any {
    let result = try Run.process(Oracle.python, ["-c", script] + arguments, environment: ["GDAL_PAM_ENABLED": "NO"])
    guard result.status == 0 else { throw ScriptFailure(message: result.stderr) }
    return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
  }

  /// Runs tessera with --json; returns its report, failing the test on another exit than 0.
  func tessera(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    let run = try TesseraBinary.run(arguments + ["--json"])
    XCTAssertEqual(run.status, 0, "\(arguments): \(run.stderr)", file: file, line: line)
    return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
  }

  /// Checks a command's `--ot` output against GDAL's tool on the same job, and its count
  /// against numpy's in GDAL's result without the type.
  func check(_ name: String, type: String, tessera arguments: [String], output: String, gdal tool: String, _ job: [String],
             file: StaticString = #filePath, line: UInt = #line) throws {
    let report = try tessera(arguments + ["--ot", type], file: file, line: line)
    let converted = dir.file("\(name)-\(type)-gdal.tif"), natural = dir.file("\(name)-\(type)-natural.tif")
    try Oracle.tool(tool, ["-q"] + job + ["-ot", type, source, converted])
    try Oracle.tool(tool, ["-q"] + job + [source, natural])
    let comparison = try PixelComparison.of(output, converted)
    XCTAssertTrue(comparison.identical, "\(name) --ot \(type) vs \(tool) -ot: \(comparison)", file: file, line: line)
    let expected = try XCTUnwrap(try run(Self.countClamped, [natural, type]) as? Int)
    XCTAssertEqual(report["clamped_pixels"] as? Int, expected, "\(name) --ot \(type)", file: file, line: line)
    XCTAssertEqual(report["data_type"] as? String, type, file: file, line: line)
    if expected > 0 {
      let warnings = report["warnings"] as? [String] ?? []
      XCTAssertTrue(warnings.contains { $0.contains("--ot \(type): \(expected) pixel") }, "\(warnings)", file: file, line: line)
    }
  }

  func testOutputTypeAgreesWithGDALInEveryCommand() throws {
    for type in ["Byte", "Int16", "UInt16", "Float64"] {
      let reprojected = dir.file("reproject-\(type).tif")
      try check("reproject", type: type, tessera: ["reproject", source, reprojected, "--dst-crs", "EPSG:4326"], output: reprojected,
                gdal: "gdalwarp", ["-t_srs", "EPSG:4326"])
      let resampled = dir.file("resample-\(type).tif")
      try check("resample", type: type, tessera: ["resample", source, resampled, "--size", "20,15", "--resampling", "bilinear"],
                output: resampled, gdal: "gdalwarp", ["-ts", "20", "15", "-r", "bilinear"])
      let clipped = dir.file("clip-\(type).tif")
      try check("clip", type: type, tessera: ["clip", source, clipped, "--bbox", "500050,3999750,500300,3999990"], output: clipped,
                gdal: "gdal_translate", ["-projwin", "500050", "3999990", "500300", "3999750"])
      let mosaic = dir.file("mosaic-\(type).tif")
      try check("mosaic", type: type, tessera: ["mosaic", source, "-o", mosaic], output: mosaic, gdal: "gdal_translate", [])
      let stack = dir.file("stack-\(type).tif")
      try check("band-stack", type: type, tessera: ["band-stack", source, "-o", stack], output: stack, gdal: "gdal_translate", [])
      let cog = dir.file("cog-\(type).tif")
      try check("cog-export", type: type, tessera: ["cog-export", source, cog], output: cog, gdal: "gdal_translate", [])
    }
  }

  func testEachFeatureConvertsEveryOutputAndCountsThemAll() throws {
    let cutline = dir.file("parts.geojson")
    // Two boxes on pixel edges: each output is the gdal_translate -projwin of its box.
    let boxes = [[500050.0, 3999750.0, 500300.0, 3999990.0], [500100.0, 3999800.0, 500390.0, 3999900.0]]
    let features = boxes.enumerated().map { i, b in
      "{\"type\":\"Feature\",\"properties\":{\"name\":\"part\(i)\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[\(b[0]),\(b[1])],[\(b[2]),\(b[1])],[\(b[2]),\(b[3])],[\(b[0]),\(b[3])],[\(b[0]),\(b[1])]]]}}"
    }
    let crs = "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:32633\"}}"
    try "{\"type\":\"FeatureCollection\",\(crs),\"features\":[\(features.joined(separator: ","))]}".write(toFile: cutline, atomically: true, encoding: .utf8)
    let folder = dir.file("parts")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let report = try tessera(["clip", source, "--cutline", cutline, "--each-feature", "--name-field", "name", "-o", folder, "--ot", "Byte"])
    var expected = 0
    for (i, b) in boxes.enumerated() {
      let window = ["-projwin", "\(b[0])", "\(b[3])", "\(b[2])", "\(b[1])"]
      let reference = dir.file("part\(i)-gdal.tif"), natural = dir.file("part\(i)-natural.tif")
      try Oracle.tool("gdal_translate", ["-q"] + window + ["-ot", "Byte", source, reference])
      try Oracle.tool("gdal_translate", ["-q"] + window + [source, natural])
      let comparison = try PixelComparison.of(folder + "/part\(i).tif", reference)
      XCTAssertTrue(comparison.identical, "part\(i): \(comparison)")
      expected += try XCTUnwrap(try run(Self.countClamped, [natural, "Byte"]) as? Int)
    }
    XCTAssertGreaterThan(expected, 0)
    XCTAssertEqual(report["clamped_pixels"] as? Int, expected)
  }

  func testMergeMemfileConvertsAsGDALTranslate() throws {
    let product = Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE")
    let natural = dir.file("natural.tif"), byte = dir.file("byte.tif"), reference = dir.file("reference.tif")
    let common = ["merge-memfile", product, "-b", "B04", "--resolution", "60"]
    _ = try tessera(common + ["-o", natural])
    let report = try tessera(common + ["-o", byte, "--ot", "Byte"])
    try Oracle.tool("gdal_translate", ["-q", "-ot", "Byte", natural, reference])
    let comparison = try PixelComparison.of(byte, reference)
    XCTAssertTrue(comparison.identical, "merge-memfile --ot Byte vs gdal_translate -ot Byte: \(comparison)")
    let expected = try XCTUnwrap(try run(Self.countClamped, [natural, "Byte"]) as? Int)
    XCTAssertGreaterThan(expected, 0, "the fixture's reflectances pass 255")
    XCTAssertEqual(report["clamped_pixels"] as? Int, expected)
  }

  /// GDAL's rule, checked on the values themselves: rounded half away from zero, clamped, NaN to
  /// the type's 0 (unsigned) or lowest value (signed), as GDALCopyWords does.
  func testRoundingClampingAndNaNAreGDALs() throws {
    let expected: [String: [Double]] = [
      "Byte": [1, 2, 3, 0, 0, 255, 255, 0], "Int16": [1, 2, 3, -1, -2, 255, 256, -32768], "UInt16": [1, 2, 3, 0, 0, 255, 256, 0],
    ]
    for (type, values) in expected {
      let out = dir.file("round-\(type).tif")
      _ = try tessera(["mosaic", source, "-o", out, "--ot", type])
      let row = Array(try PixelComparison.values(out).prefix(8))
      XCTAssertEqual(row, values, type)
    }
  }

  func testOutputTypeRefusals() throws {
    let int8 = try TesseraBinary.run(["reproject", source, dir.file("a.tif"), "--dst-crs", "EPSG:4326", "--ot", "Int8"])
    XCTAssertEqual(int8.status, 64)
    XCTAssertTrue(int8.stderr.contains("GDAL 3.6 has no Int8"), int8.stderr)
    let unknown = try TesseraBinary.run(["clip", source, dir.file("b.tif"), "--bbox", "500050,3999750,500300,3999990", "--ot", "Float128"])
    XCTAssertEqual(unknown.status, 64)
    XCTAssertTrue(unknown.stderr.contains("--ot takes Byte"), unknown.stderr)
    let vrt = try TesseraBinary.run(["mosaic", source, "-o", dir.file("c.vrt"), "--ot", "Byte"])
    XCTAssertEqual(vrt.status, 64)
    XCTAssertTrue(vrt.stderr.contains("gdalbuildvrt has no -ot"), vrt.stderr)
    // GDAL's names in any case, as gdal_translate takes them.
    let lower = try TesseraBinary.run(["resample", source, dir.file("d.tif"), "--size", "20,15", "--ot", "float32", "--quiet"])
    XCTAssertEqual(lower.status, 0, lower.stderr)
    XCTAssertEqual(try Oracle.gdalinfo(dir.file("d.tif"))["bands"].flatMap { ($0 as? [[String: Any]])?.first?["type"] as? String }, "Float32")
    // A given nodata the type cannot hold is refused, naming it.
    let nodata = try TesseraBinary.run(["reproject", source, dir.file("e.tif"), "--dst-crs", "EPSG:4326", "--ot", "Byte", "--dst-nodata", "-9999"])
    XCTAssertEqual(nodata.status, 64)
    XCTAssertTrue(nodata.stderr.contains("--dst-nodata -9999") && nodata.stderr.contains("Byte"), nodata.stderr)
  }
}
