import Foundation
import GDAL
import TestSupport
import XCTest

/// One nodata model (issue 24, sections 4 and 5): "the input's", "none" and "this value" kept
/// apart in every command; the JSON's valid counts equal what GDAL reads as valid in the file;
/// index roles bound once and every catalogue parameter used.
final class NodataModelTests: TemporaryDirectoryTestCase {
  /// Per band of `path`: nodata as gdalinfo reports it (nil: none).
  func declaredNodata(_ path: String) throws -> [Double?] {
    let info = try Oracle.gdalinfo(path)
    let bands = try XCTUnwrap(info["bands"] as? [[String: Any]])
    return bands.map { band in
      if let v = band["noDataValue"] as? Double { return v }
      if let s = band["noDataValue"] as? String { return s.lowercased() == "nan" ? .nan : Double(s) }
      return nil
    }
  }

  /// Per band: pixels GDAL's mask band reads as valid.
  func gdalValidCounts(_ path: String) throws -> [Int] {
    let script = """
      import json, sys
      from osgeo import gdal
      ds = gdal.Open(sys.argv[1])
      print(json.dumps([int((ds.GetRasterBand(i + 1).GetMaskBand().ReadAsArray() > 0).sum()) for i in range(ds.RasterCount)]))
      """
    let result = try Run.process(Oracle.python, ["-c", script, path], environment: ["GDAL_PAM_ENABLED": "NO"])
    XCTAssertEqual(result.status, 0, result.stderr)
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Int])
  }

  /// A one-band raster of `values` (a row), made with GDAL's bindings.
  func raster(_ name: String, _ values: [Double], type: String = "Float32", nodata: Double? = nil) throws -> String {
    let path = dir.file(name)
    let script = """
      import json, sys
      import numpy as np
      from osgeo import gdal, osr
      values = json.loads(sys.argv[2])
      ds = gdal.GetDriverByName('GTiff').Create(sys.argv[1], len(values), 1, 1, gdal.GetDataTypeByName(sys.argv[3]))
      ds.SetGeoTransform([500000, 10, 0, 4000000, 0, -10])
      srs = osr.SpatialReference(); srs.ImportFromEPSG(32633); ds.SetProjection(srs.ExportToWkt())
      if sys.argv[4] != 'none': ds.GetRasterBand(1).SetNoDataValue(float(sys.argv[4]))
      ds.GetRasterBand(1).WriteArray(np.array([values], dtype=np.float64))
      ds = None
      print(1)
      """
    let json = "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
    let result = try Run.process(Oracle.python, ["-c", script, path, json, type, nodata.map { "\($0)" } ?? "none"])
    XCTAssertEqual(result.status, 0, result.stderr)
    return path
  }

  func report(_ run: ProcessResult) throws -> [String: Any] {
    XCTAssertEqual(run.status, 0, run.stderr)
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
  }

  // MARK: - clip

  /// --dst-nodata none declares nothing, with a polygon as with a box; --add-alpha declares
  /// nothing on any band (GeoTIFF's one nodata would fall on the alpha band too). On main a
  /// polygon clip inherited the source's 0 on every band.
  func testClipNoneAndAlphaDeclareNoNodata() throws {
    let source = Fixture.rgbByte
    XCTAssertEqual(try declaredNodata(source).first ?? nil, 0, "the fixture declares nodata 0")
    let polygon = "POLYGON((101985 2826915, 104000 2826915, 104000 2824000, 101985 2826915))"
    let cases: [(String, [String], [Double?])] = [
      ("none.tif", ["--dst-nodata", "none"], [nil, nil, nil]),
      ("alpha.tif", ["--add-alpha"], [nil, nil, nil, nil]),
      ("alpha-none.tif", ["--add-alpha", "--src-nodata", "none", "--dst-nodata", "none"], [nil, nil, nil, nil]),
      ("inherit.tif", [], [0, 0, 0]),
      ("seven.tif", ["--dst-nodata", "7"], [7, 7, 7]),
    ]
    for (name, extra, expected) in cases {
      let out = dir.file(name)
      let run = try TesseraBinary.run(["clip", source, out, "--geometry", polygon] + extra)
      XCTAssertEqual(run.status, 0, "\(extra): \(run.stderr)")
      let declared = try declaredNodata(out)
      XCTAssertEqual(declared.count, expected.count, "\(extra)")
      for (d, e) in zip(declared, expected) { XCTAssertEqual(d, e, "\(extra): \(declared)") }
    }
    // Outside the polygon the fill is 0 under none; the alpha band says which pixels are inside,
    // and GDAL's mask of the data bands (from the alpha) agrees with it.
    let alpha = try PixelComparison.values(dir.file("alpha.tif"), band: 4)
    let valid = try gdalValidCounts(dir.file("alpha.tif"))
    XCTAssertEqual(valid[0], alpha.filter { $0 > 0 }.count)
  }

  // MARK: - --dst-nodata the output type cannot hold

  func testDstNodataOutsideTheTypeIs64InEveryCommand() throws {
    let byte = Fixture.rgbByte
    let float = try raster("f.tif", [1, 2, 3, 4])
    let cases: [([String], String)] = [
      (["clip", byte, dir.file("a.tif"), "--bbox", "101985,2824000,104000,2826915", "--dst-nodata", "-1"], "Byte"),
      (["reproject", byte, dir.file("b.tif"), "--dst-crs", "EPSG:4326", "--dst-nodata", "256"], "Byte"),
      (["mosaic", byte, "-o", dir.file("c.tif"), "--dst-nodata", "-1"], "Byte"),
      (["clip", float, dir.file("d.tif"), "--bbox", "500000,3999990,500020,4000000", "--dst-nodata", "1e40"], "Float32"),
      (["index", "--expr", "b1", float, "-o", dir.file("e.tif"), "--ot", "UInt16", "--dst-nodata", "70000"], "UInt16"),
      (["index", "--expr", "b1", float, "-o", dir.file("f2.tif"), "--ot", "Byte", "--dst-nodata", "-1"], "Byte"),
      (["index", "--expr", "b1", float, "-o", dir.file("g.tif"), "--dst-nodata", "1e40"], "Float32"),
      (["cog-export", byte, dir.file("h.tif"), "--dst-nodata", "-1"], "Byte"),
      // Float32 would round it to 0, making every real 0 nodata (round-2 hostile review).
      (["reproject", float, dir.file("i.tif"), "--dst-crs", "EPSG:4326", "--dst-nodata", "1e-50"], "Float32"),
      // Without --dst-nodata the source's value is declared on the output.
      (["reproject", byte, dir.file("j.tif"), "--dst-crs", "EPSG:4326", "--src-nodata", "300"], "Byte"),
      (["mosaic", byte, "-o", dir.file("k.tif"), "--src-nodata", "nan"], "Byte"),
    ]
    for (args, type) in cases {
      let run = try TesseraBinary.run(args)
      XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains("nodata") && run.stderr.contains(type), "\(args): \(run.stderr)")
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    }
    XCTAssertEqual(dir.contents.filter { $0 != "f.tif" }, [], "nothing written")
  }

  /// index's storage options: an --output-scale that is not a finite non-zero number, an
  /// --output-offset that is not finite, or an --ot whose values a Double cannot hold exactly, is
  /// 64 with nothing written (the hostile review wrote rasters with a scale of 1e400, nan and 0,
  /// and with --ot Int64).
  func testIndexStorageOptionsOutOfRangeAre64() throws {
    let float = try raster("f.tif", [1, 2, 3, 4])
    for extra in [["--ot", "Int16", "--output-scale", "1e400"], ["--ot", "Int16", "--output-scale", "nan"], ["--ot", "Int16", "--output-scale", "0"],
                  ["--output-offset", "inf"], ["--ot", "Int64"], ["--ot", "UInt64"], ["--ot", "CFloat32"]] {
      let run = try TesseraBinary.run(["index", "--expr", "b1", float, "-o", dir.file("s.tif")] + extra)
      XCTAssertEqual(run.status, 64, "\(extra): \(run.stderr)")
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    }
    XCTAssertEqual(dir.contents.filter { $0 != "f.tif" }, [], "nothing written")
  }

  // MARK: - index

  /// Integer outputs: nodata outside the clamp range (Int16: −32768, clamp −32767…32767;
  /// unsigned: the top value), values equal to clip(round(v / scale)) of the Float32 values the
  /// input holds, and valid_pixels equal to GDAL's mask. On main UInt16 and Byte declared 0, so clamped and zero results read
  /// as nodata while the JSON counted them valid.
  func testIndexIntegerOutputsKeepNodataOutsideTheClampRange() throws {
    let values: [Double] = [-5, -1, -0.00001, 0, 0.00004, 0.5, 1, 5, -9999, 3.27675, -3.2768]
    let input = try raster("in.tif", values, nodata: -9999)
    for (type, nodata, low, high) in [("Int16", -32768.0, -32767.0, 32767.0), ("UInt16", 65535, 0, 65534), ("Byte", 255, 0, 254)] {
      let out = dir.file("\(type).tif")
      let json = try report(try TesseraBinary.run(["index", "--expr", "b1", input, "-o", out, "--ot", type, "--output-scale", "0.0001", "--json"]))
      XCTAssertEqual(json["nodata"] as? Double, nodata, type)
      XCTAssertEqual(try declaredNodata(out), [nodata], type)
      let expected = values.map { $0 == -9999 ? nodata : Swift.min(Swift.max((Double(Float($0)) / 0.0001).rounded(), low), high) }
      let stored = try PixelComparison.values(out)
      let comparison = PixelComparison.of(stored, expected)
      XCTAssertTrue(comparison.identical, "\(type): \(comparison) \(stored) vs \(expected)")
      XCTAssertEqual(json["valid_pixels"] as? [Int], try gdalValidCounts(out), type)
      XCTAssertEqual(json["valid_pixels"] as? [Int], [values.count - 1], type)
    }
  }

  /// A result Float32 cannot hold (exp(100)) is nodata, not +inf counted valid.
  func testIndexNonFiniteAfterConversionIsNodata() throws {
    let input = try raster("in.tif", [0, 1, 50, 100, 200])
    let out = dir.file("exp.tif")
    let json = try report(try TesseraBinary.run(["index", "--expr", "exp(b1)", input, "-o", out, "--json"]))
    let stored = try PixelComparison.values(out)
    XCTAssertFalse(stored.contains { $0.isInfinite }, "\(stored)")
    XCTAssertEqual(stored.filter(\.isNaN).count, 2, "\(stored)")
    XCTAssertEqual(json["valid_pixels"] as? [Int], try gdalValidCounts(out))
    XCTAssertEqual(json["valid_pixels"] as? [Int], [3])
  }

  /// A result equal to the nodata value is counted apart and warned about, and valid_pixels
  /// is what GDAL reads as valid.
  func testIndexResultEqualToNodataIsCountedAndSaid() throws {
    let input = try raster("in.tif", [0.25, 0.5, 0.75, 0.5])
    let out = dir.file("half.tif")
    let run = try TesseraBinary.run(["index", "--expr", "b1", input, "-o", out, "--dst-nodata", "0.5", "--json"])
    let json = try report(run)
    XCTAssertEqual(json["valid_pixels"] as? [Int], try gdalValidCounts(out))
    XCTAssertEqual(json["valid_pixels"] as? [Int], [2])
    XCTAssertEqual(json["nodata_collisions"] as? [Int], [2])
    XCTAssertTrue(run.stderr.contains("warning:") && run.stderr.contains("0.5"), run.stderr)
    XCTAssertTrue((json["warnings"] as? [String])?.contains { $0.contains("nodata value 0.5") } ?? false, "\(json)")
  }

  /// A role given twice under any spelling is 64 naming both; -i ROLE=N (a band of a raster
  /// INPUT) with --sensor or a product is 64.
  func testIndexRoleBoundTwiceOrBandsIgnoredIs64() throws {
    let a = try raster("a.tif", [1, 2]), b = try raster("b.tif", [3, 4]), c = try raster("c.tif", [5, 6])
    for spelling in ["R", "Red", "RED"] {
      let run = try TesseraBinary.run(["index", "ndvi", "-o", dir.file("o.tif"), "-i", "red=" + a, "-i", "\(spelling)=" + b, "-i", "nir=" + c])
      XCTAssertEqual(run.status, 64, "\(spelling): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains("'red'") && run.stderr.contains("'\(spelling)'"), run.stderr)
    }
    let sensor = try TesseraBinary.run(["index", "ndvi", dir.path, "-o", dir.file("o.tif"), "--sensor", "sentinel2", "-i", "red=3,nir=4"])
    XCTAssertEqual(sensor.status, 64, sensor.stderr)
    XCTAssertTrue(sensor.stderr.contains("-i red=3") && sensor.stderr.contains("--sensor"), sensor.stderr)
    let product = try TesseraBinary.run(["index", "ndvi", Fixture.t29unuMetadata, "-o", dir.file("o.tif"), "-i", "red=3,nir=4"])
    XCTAssertEqual(product.status, 64, product.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("o.tif")))
  }

  /// --param lmb changes GARI and --param gamma SARVI, as numpy computes the published formulas.
  func testGARIAndSARVIParametersApply() throws {
    let n = try raster("n.tif", [0.5, 0.6, 0.4]), g = try raster("g.tif", [0.1, 0.12, 0.2])
    let r = try raster("r.tif", [0.08, 0.05, 0.1]), bl = try raster("b.tif", [0.04, 0.06, 0.03])
    let bands = ["-i", "nir=" + n, "-i", "green=" + g, "-i", "red=" + r, "-i", "blue=" + bl]
    for (index, parameter, formula) in [
      ("gari", "lmb", "(N - (G - k * (B - R))) / (N + (G - k * (B - R)))"),
      ("sarvi", "gamma", "(1 + 1.0)*(N - (R - k * (R - B))) / (N + (R - k * (R - B)) + 1.0)"),
    ] {
      let out = dir.file("\(index).tif")
      let run = try TesseraBinary.run(["index", index, "-o", out, "--param", "\(parameter)=1.7"] + bands)
      XCTAssertEqual(run.status, 0, run.stderr)
      let script = """
        import json
        import numpy as np
        N = np.float32([0.5, 0.6, 0.4]).astype(float); G = np.float32([0.1, 0.12, 0.2]).astype(float)
        R = np.float32([0.08, 0.05, 0.1]).astype(float); B = np.float32([0.04, 0.06, 0.03]).astype(float)
        k = 1.7
        print(json.dumps([float(x) for x in np.float32(\(formula))]))
        """
      let expected = try XCTUnwrap(try Oracle.python(script) as? [Double])
      let comparison = PixelComparison.of(try PixelComparison.values(out), expected, tolerance: 1e-6)
      XCTAssertTrue(comparison.identical, "\(index): \(comparison)")
      let plain = dir.file("\(index)-1.tif")
      XCTAssertEqual(try TesseraBinary.run(["index", index, "-o", plain] + bands).status, 0)
      XCTAssertFalse(PixelComparison.of(try PixelComparison.values(plain), expected, tolerance: 1e-6).identical, "\(parameter) changes \(index)")
    }
  }

  // MARK: - band-stack

  /// Inputs with different nodata: GeoTIFF holds one, so the bands that change are listed in
  /// nodata_dropped and warned about by number, never silently, and GDAL's own warning naming
  /// a temporary file never reaches the user.
  func testBandStackReportsEveryBandWhoseNodataChanges() throws {
    let a = try raster("a.tif", [0, 1, 2, 65535], type: "UInt16", nodata: 0)
    let b = try raster("b.tif", [0, 1, 2, 65535], type: "UInt16", nodata: 65535)
    let c = try raster("c.tif", [0, 1, 2, 65535], type: "UInt16")
    let d = try raster("d.tif", [0, 1, 2, 3], type: "UInt16", nodata: 0)
    let out = dir.file("stack.tif")
    let run = try TesseraBinary.run(["band-stack", a, b, c, d, "-o", out, "--json"])
    let json = try report(run)
    let dropped = try XCTUnwrap(json["nodata_dropped"] as? [[String: Any]])
    XCTAssertEqual(dropped.map { $0["band"] as? Int }, [2, 3], "\(dropped)")
    XCTAssertEqual(dropped.first?["nodata"] as? Double, 65535)
    XCTAssertEqual(dropped.first?["declared"] as? Double, 0)
    XCTAssertEqual(try declaredNodata(out), [0, 0, 0, 0])
    XCTAssertTrue(run.stderr.contains("band 2") && run.stderr.contains("band 3"), run.stderr)
    XCTAssertFalse(run.stderr.contains("/vsimem") || run.stderr.contains(".tessera") || run.stderr.contains("TIFFTAG"), run.stderr)
    // The pixels are the inputs' own, as gdal_translate stacks them.
    for (i, input) in [a, b, c, d].enumerated() {
      XCTAssertEqual(try PixelComparison.values(out, band: i + 1), try PixelComparison.values(input))
    }
    // Equal nodata everywhere: nothing dropped, nothing said.
    let same = try report(try TesseraBinary.run(["band-stack", a, d, "-o", dir.file("same.tif"), "--json"]))
    XCTAssertEqual((same["nodata_dropped"] as? [Any])?.count, 0)
  }
}
